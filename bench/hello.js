// The ceiling: the least a Worker can do per request on the same runtime
// path, under the same load as the API.
export default {
  fetch() {
    return new Response("Hello World!");
  },
};
