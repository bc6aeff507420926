// The two Workers of a before/after (compare.mjs, cpu.mjs): the working
// tree's (head) and another commit's (base), each bundled as `wrangler
// deploy` would upload it, with its own checkout's wrangler.toml
// (compatibility date, flags, Workflows) and migrations: each Worker as it
// was or would be deployed. The base is built in a temporary git worktree
// (./checkout.mjs), gone again before this returns.
import path from "node:path";
import { buildBundle } from "./bundle.mjs";
import { inCheckout } from "./checkout.mjs";
import { log } from "./measure.mjs";
import { workerConfig } from "./targets.mjs";

/** Sets `bundle` and `config` on `head` and `base` ({ref, commit, ...}); bundles go to `build`/<name>. */
export async function buildSides(base, head, { build, tmp }) {
  log(`building head: ${head.ref}${head.changed ? " (with uncommitted changes)" : ""}`);
  head.bundle = buildBundle(path.join(build, "head"));
  head.config = workerConfig();
  log(`head bundle: ${head.bundle.uploadKiB} KiB, gzip ${head.bundle.gzipKiB} KiB`);
  log(`building base: ${base.ref} (${base.commit.slice(0, 12)}) in a temporary git worktree`);
  Object.assign(
    base,
    await inCheckout(base.commit, path.join(tmp, "checkout"), (dir) => ({
      bundle: buildBundle(path.join(build, "base"), { cwd: dir }),
      config: workerConfig(dir),
    })),
  );
  log(`base bundle: ${base.bundle.uploadKiB} KiB, gzip ${base.bundle.gzipKiB} KiB`);
}
