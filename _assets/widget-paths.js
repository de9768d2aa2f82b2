// Loaded between require.js and the ipywidgets HTML manager (see nb_ipywidgets_js in _config.yml).
(function () {
  // 1. The manager finds its own files (fonts) through require.js's names for its modules; map those
  //    names to this site's copy, found from this script's own URL, so pages at any depth load them.
  var src = document.currentScript.src.split("?")[0];
  var manager = src.slice(0, src.lastIndexOf("/") + 1) + "html-manager";
  require.config({ paths: { "@jupyter-widgets": manager, "@jupyter-widgets/html-manager/dist": manager } });

  // 2. The manager typesets widget labels with MathJax 2's MathJax.Hub.Queue; this site runs MathJax 3.
  //    Give it a Hub that forwards to MathJax 3 (before MathJax has loaded, and after it has started).
  function hub() {
    return { Queue: function (job) {
      var element = job && job[2];
      if (element && window.MathJax && MathJax.typesetPromise) {
        MathJax.typesetPromise([element]).catch(function () {});
      }
    } };
  }
  window.MathJax = window.MathJax || {};
  window.MathJax.Hub = hub();
  var startup = window.MathJax.startup = window.MathJax.startup || {};
  var ready = startup.ready;
  startup.ready = function () {
    if (ready) { ready(); } else { MathJax.startup.defaultReady(); }
    MathJax.Hub = hub();
  };
})();
