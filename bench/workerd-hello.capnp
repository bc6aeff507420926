# bench/hello.js on plain `workerd serve`, without Miniflare's entry Worker in
# front: how much of the hello-world ceiling is Miniflare's own path, and
# whether workerd's periodic pauses (bench/README.md) come with it.
#   node_modules/miniflare/node_modules/@cloudflare/workerd-linux-64/bin/workerd \
#     serve bench/workerd-hello.capnp &
#   wrk -t1 -c8 -d10s --latency http://127.0.0.1:18860/
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .hello)],
  sockets = [(name = "http", address = "127.0.0.1:18860", http = (), service = "main")],
);

const hello :Workerd.Worker = (
  modules = [(name = "hello.js", esModule = embed "hello.js")],
  compatibilityDate = "2026-11-01",
);
