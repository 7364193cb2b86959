/* 法律法规库: the popover of cited articles. Every link a.cite[data-cite-url] (made by the
   link_citations filter) shows the article text on hover, keyboard focus or a first tap; a second
   tap (or Enter) follows the link to the article page. No inline script (CSP). */
(function () {
  "use strict";

  var cache = {};
  var pop = null, body = null, current = null, showTimer = null, hideTimer = null, lastPointer = "mouse";
  var refocusing = false; /* focus given back to the link on close must not reopen the popover */

  function getJSON(url) {
    if (cache[url]) return cache[url];
    var p = (window.Portal && window.Portal.fetchJSON)
      ? window.Portal.fetchJSON(url)
      : fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
          if (!r.ok) throw new Error("请求失败");
          return r.json();
        });
    cache[url] = p.catch(function (e) { delete cache[url]; throw e; });
    return cache[url];
  }

  function ensurePopover() {
    if (pop) return pop;
    pop = document.createElement("div");
    pop.className = "cite-popover";
    pop.id = "cite-popover";
    pop.setAttribute("role", "dialog");
    pop.setAttribute("aria-labelledby", "cite-popover-title");
    pop.hidden = true;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "cite-close";
    close.setAttribute("aria-label", "关闭条文");
    close.textContent = "×";
    close.addEventListener("click", function () { hide(true); });
    body = document.createElement("div");
    body.className = "cite-body";
    body.setAttribute("aria-live", "polite");
    pop.appendChild(close);
    pop.appendChild(body);
    pop.addEventListener("mouseenter", function () { clearTimeout(hideTimer); });
    pop.addEventListener("mouseleave", function () { scheduleHide(); });
    pop.addEventListener("focusout", function (ev) {
      if (!pop.contains(ev.relatedTarget) && ev.relatedTarget !== current) scheduleHide();
    });
    document.body.appendChild(pop);
    return pop;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function render(data) {
    body.textContent = "";
    var h = el("h2", null, data.heading);
    h.id = "cite-popover-title";
    body.appendChild(h);
    (data.paragraphs || []).forEach(function (p) {
      body.appendChild(el("p", p.kind === "item" ? "cite-item" : "cite-para", p.text));
    });
    var more = el("p", "cite-more");
    var a = el("a", null, "打开本条");
    a.href = data.url;
    var b = el("a", null, "在全文中查看");
    b.href = data.law_url;
    more.appendChild(a);
    more.appendChild(document.createTextNode(" · "));
    more.appendChild(b);
    body.appendChild(more);
  }

  function place(link) {
    var r = link.getBoundingClientRect();
    var docW = document.documentElement.clientWidth;
    pop.style.left = "0px";
    pop.style.top = "0px";
    var w = pop.offsetWidth;
    var left = Math.max(8, Math.min(r.left, docW - w - 8));
    pop.style.left = (left + window.scrollX) + "px";
    pop.style.top = (r.bottom + window.scrollY + 6) + "px";
  }

  function show(link) {
    clearTimeout(hideTimer);
    ensurePopover();
    if (current && current !== link) current.setAttribute("aria-expanded", "false");
    current = link;
    link.setAttribute("aria-controls", "cite-popover");
    link.setAttribute("aria-expanded", "true");
    var url = link.getAttribute("data-cite-url");
    body.textContent = "";
    var h = el("h2", null, "正在载入条文…");
    h.id = "cite-popover-title";
    body.appendChild(h);
    pop.hidden = false;
    place(link);
    getJSON(url).then(function (data) {
      if (current !== link) return;
      render(data);
      place(link);
    }).catch(function () {
      if (current !== link) return;
      body.textContent = "";
      var e = el("h2", null, "条文暂时无法显示，请点击链接查看。");
      e.id = "cite-popover-title";
      body.appendChild(e);
    });
  }

  function hide(returnFocus) {
    clearTimeout(showTimer);
    clearTimeout(hideTimer);
    if (!pop || pop.hidden) return;
    pop.hidden = true;
    if (current) {
      current.setAttribute("aria-expanded", "false");
      if (returnFocus) {
        refocusing = true;
        current.focus();
        refocusing = false;
      }
    }
    current = null;
  }

  function scheduleHide() {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(function () { hide(false); }, 300);
  }

  function citeOf(target) {
    return target && target.closest ? target.closest("a.cite[data-cite-url]") : null;
  }

  document.addEventListener("pointerdown", function (ev) { lastPointer = ev.pointerType || "mouse"; }, true);

  document.addEventListener("mouseover", function (ev) {
    var link = citeOf(ev.target);
    if (!link || lastPointer === "touch") return;
    clearTimeout(hideTimer);
    clearTimeout(showTimer);
    showTimer = setTimeout(function () { show(link); }, 200);
  });
  document.addEventListener("mouseout", function (ev) {
    var link = citeOf(ev.target);
    if (!link || (ev.relatedTarget && link.contains(ev.relatedTarget))) return;
    clearTimeout(showTimer);
    scheduleHide();
  });
  document.addEventListener("focusin", function (ev) {
    var link = citeOf(ev.target);
    if (link && !refocusing && lastPointer !== "touch") show(link);
  });
  document.addEventListener("focusout", function (ev) {
    var link = citeOf(ev.target);
    if (link && !(pop && pop.contains(ev.relatedTarget))) scheduleHide();
  });
  /* A first tap on a touch screen shows the text; a second tap on the same link opens the page. */
  document.addEventListener("click", function (ev) {
    var link = citeOf(ev.target);
    if (!link) {
      if (pop && !pop.hidden && !pop.contains(ev.target)) hide(false);
      return;
    }
    if (lastPointer !== "mouse" && lastPointer !== "" && (current !== link || pop.hidden)) {
      ev.preventDefault();
      show(link);
    }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && pop && !pop.hidden) hide(true);
  });
  window.addEventListener("resize", function () { if (current && pop && !pop.hidden) place(current); });
})();
