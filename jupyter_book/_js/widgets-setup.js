// Loaded on pages with saved widget state, before require.js and the widget
// manager (see nb_ipywidgets_js in _config.yml). Two adjustments let the
// vendored @jupyter-widgets/html-manager work offline beside MathJax 3.

// 1. The manager loads its fonts from the folder its AMD module lives in; point
//    that module at the vendored copy in _static/ (requirejs reads a global
//    `require` object defined before it loads as its configuration).
var require = {
  paths: {
    "@jupyter-widgets/html-manager/dist": new URL("html-manager", document.currentScript.src).href,
  },
};

// 2. Widgets typeset their labels through MathJax 2's `MathJax.Hub.Queue`; the
//    book runs MathJax 3, which has no Hub. Give it one that hands each element
//    to MathJax 3 once MathJax has started (MathJax 3 replaces the global object
//    when it loads, so the Hub is installed both now and in startup.ready).
(function () {
  const pending = [];
  const typeset = (element) => {
    const mj = window.MathJax;
    if (mj && typeof mj.typesetPromise === "function") mj.typesetPromise([element]);
    else pending.push(element);
  };
  const hub = {
    Queue: (...jobs) => {
      for (const job of jobs) {
        if (Array.isArray(job) && job[0] === "Typeset" && job[2]) typeset(job[2]);
      }
    },
  };
  const config = window.MathJax || (window.MathJax = {});
  config.Hub = hub;
  const startup = config.startup || (config.startup = {});
  const ready = startup.ready;
  startup.ready = () => {
    if (ready) ready();
    else window.MathJax.startup.defaultReady();
    window.MathJax.Hub = hub;
    window.MathJax.startup.promise.then(() => pending.length && window.MathJax.typesetPromise(pending.splice(0)));
  };
})();
