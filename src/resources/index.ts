import type { Route } from "../http/route";
import { extensionRoutes } from "./extensions/routes";
import { hostRoutes } from "./hosts/routes";
import { notificationRoutes } from "./notifications/routes";
import { planRoutes } from "./plans/routes";
import { segmentRoutes } from "./segments/routes";
import { versionRoutes } from "./versions/routes";
import { vmoveRoutes } from "./vmoves/routes";

/** Every /v1 route, in the order they are matched: what app.ts serves and the OpenAPI document describes. */
export const v1Routes: readonly Route[] = [
  ...versionRoutes,
  ...extensionRoutes,
  ...segmentRoutes,
  ...hostRoutes,
  ...planRoutes,
  ...notificationRoutes,
  ...vmoveRoutes,
];
