// Keyboard access to what scrolls sideways (WCAG 2.1.1; axe-core's scrollable-region-focusable).
// A display formula wider than the column (on a phone) or a wide table scrolls inside its own box: that
// box, and only that one, becomes a tab stop so the arrow keys can scroll it.  Formulas that fit stay out
// of the tab order (MathJax's menu is off in _config.yml, so no formula is a tab stop otherwise).
(function () {
  var SELECTOR = "mjx-container[display='true'], .bd-article table, .bd-article pre, .bd-article .table-wrapper";

  function mark() {
    document.querySelectorAll(SELECTOR).forEach(function (el) {
      var wide = el.scrollWidth > el.clientWidth + 1 && /(auto|scroll)/.test(getComputedStyle(el).overflowX);
      if (wide && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-bp-scroll", "");
      } else if (!wide && el.hasAttribute("data-bp-scroll")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-bp-scroll");
      }
    });
  }

  function whenTypeset() {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) {
      return mj.startup.promise.then(mark);
    }
    mark();
  }

  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(mark, 150);
  });
  if (document.readyState === "complete") {
    whenTypeset();
  } else {
    window.addEventListener("load", whenTypeset);
  }
  window.bpMarkScrollers = mark;
})();
