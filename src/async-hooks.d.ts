// The one Node.js API this Worker uses (nodejs_compat in wrangler.toml),
// declared as workerd implements it, rather than pulling in all of
// @types/node and its globals, which the Worker does not have.
declare module "node:async_hooks" {
  export class AsyncLocalStorage<T> {
    run<R>(store: T, callback: () => R): R;
    getStore(): T | undefined;
  }
}
