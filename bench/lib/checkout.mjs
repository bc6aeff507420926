// Another commit of this repository, checked out next to this one for as
// long as it takes to read it (build its bundle, read its wrangler.toml and
// migrations): a detached git worktree that shares this clone's objects,
// with this checkout's node_modules, so nothing is downloaded.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { undoing } from "./cleanup.mjs";

const ROOT = path.resolve(import.meta.dirname, "../..");
// git's own messages ("Preparing worktree") stay out of the run's log; on
// failure they are in the thrown error.
const git = (...args) =>
  execFileSync("git", ["-C", ROOT, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

/** The commit a ref names, and its subject line; throws on an unknown ref. */
export function commitOf(ref) {
  const commit = git("rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`);
  return { ref, commit, subject: git("log", "-1", "--format=%s", commit) };
}

/**
 * This checkout: its HEAD, and whether the working tree differs from it,
 * leaving out the paths under `except` (bench/ for what the Worker is built
 * from: the benchmark's own files are not in the bundle).
 */
export function workingTree({ except } = {}) {
  const head = commitOf("HEAD");
  const paths = except ? ["--", ".", `:(exclude)${except}`] : [];
  const changed = git("status", "--porcelain", "--untracked-files=no", ...paths) !== "";
  return { ...head, ref: "the working tree", changed };
}

/**
 * Checks `commit` out in `dir` (which must not exist), runs `body(dir)` and
 * removes the worktree again: when body returns, throws or a signal ends
 * the run, so `git worktree list` is as it was.
 */
export function inCheckout(commit, dir, body) {
  git("worktree", "add", "--detach", dir, commit);
  return undoing(
    () => {
      try {
        git("worktree", "remove", "--force", dir);
      } catch {
        // A half-made worktree: remove the files, then git's record of it.
        fs.rmSync(dir, { recursive: true, force: true });
        git("worktree", "prune");
      }
    },
    () => {
      fs.symlinkSync(fs.realpathSync(path.join(ROOT, "node_modules")), path.join(dir, "node_modules"));
      return body(dir);
    },
  );
}
