// Monaco's workers, built beside the page's script and served by the gateway (no CDN): loaded
// before GraphiQL so that Monaco finds them when it starts its first editor.
/* global Worker */
globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    if (label === 'json') return new Worker('/ide/json.worker.js');
    if (label === 'graphql') return new Worker('/ide/graphql.worker.js');
    return new Worker('/ide/editor.worker.js');
  },
};
