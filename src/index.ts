import { env } from "cloudflare:workers";
import { createApp } from "./app";
import { loadConfig } from "./config";

// The configuration is read when the Worker starts, so a bad setting stops
// it with a clear message rather than failing requests one by one.
export default createApp(loadConfig(env));
