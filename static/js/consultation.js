/* 法律咨询: similar-question suggestions while typing the title, a character counter, and a small
   formatting toolbar for answers. No inline scripts (CSP); everything hooks on data- attributes. */
(function () {
  "use strict";

  function debounce(fn, ms) {
    var t = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function setupSuggest(form) {
    var url = form.getAttribute("data-suggest-url");
    var input = form.querySelector('input[name="title"]');
    var box = form.querySelector("[data-suggest-box]");
    var list = form.querySelector("[data-suggest-list]");
    if (!url || !input || !box || !list) return;
    var last = "";
    var seq = 0;

    function render(items) {
      list.textContent = "";
      items.forEach(function (it) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = it.url;
        a.target = "_blank";
        a.rel = "noopener";
        a.textContent = it.title;
        var tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = it.category;
        li.appendChild(a);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(tag);
        list.appendChild(li);
      });
      box.hidden = items.length === 0;
    }

    var lookup = debounce(function () {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (q.length < 2) { render([]); return; }
      var mine = ++seq;
      window.Portal.fetchJSON(url + "?q=" + encodeURIComponent(q))
        .then(function (data) { if (mine === seq) render(data.items || []); })
        .catch(function () { /* suggestions are a convenience: stay quiet on failure */ });
    }, 350);
    input.addEventListener("input", lookup);
    if (input.value) lookup();
  }

  function setupCounter(el) {
    var target = document.getElementById(el.getAttribute("data-counter-for"));
    var max = parseInt(el.getAttribute("data-max"), 10);
    if (!target) return;
    var update = function () {
      var n = target.value.length;
      el.textContent = "已输入 " + n + " / " + max + " 字" + (n > max ? "，超出 " + (n - max) + " 字" : "");
      el.classList.toggle("error", n > max);
    };
    target.addEventListener("input", update);
    update();
  }

  function setupToolbar(bar) {
    var area = document.getElementById(bar.getAttribute("data-toolbar-for"));
    if (!area) return;
    bar.hidden = false;
    bar.addEventListener("click", function (ev) {
      var btn = ev.target.closest("[data-wrap]");
      if (!btn) return;
      var tag = btn.getAttribute("data-wrap");
      var s = area.selectionStart, e = area.selectionEnd, v = area.value;
      var open = "<" + tag + ">", close = "</" + tag + ">";
      area.value = v.slice(0, s) + open + v.slice(s, e) + close + v.slice(e);
      area.focus();
      area.setSelectionRange(s + open.length, e + open.length);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-ask-form]"), setupSuggest);
    Array.prototype.forEach.call(document.querySelectorAll("[data-counter-for]"), setupCounter);
    Array.prototype.forEach.call(document.querySelectorAll("[data-toolbar-for]"), setupToolbar);
  });
})();
