/* Site-wide behaviour: 长者模式, the phone menu, region pickers. No inline scripts anywhere (CSP). */
(function () {
  "use strict";

  var Portal = (window.Portal = window.Portal || {});

  Portal.csrfToken = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  };

  Portal.fetchJSON = function (url, options) {
    options = options || {};
    options.headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (options.method && options.method !== "GET") {
      options.headers["X-CSRFToken"] = Portal.csrfToken();
    }
    options.credentials = "same-origin";
    return fetch(url, options).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) { var e = new Error(data.error || "请求失败"); e.data = data; throw e; }
        return data;
      });
    });
  };

  /* 长者模式: switch without a reload; the cookie keeps it for later visits. */
  function setupElderMode() {
    var btn = document.getElementById("elder-toggle");
    if (!btn) return;
    btn.form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var on = !document.documentElement.classList.contains("elder");
      document.documentElement.classList.toggle("elder", on);
      document.cookie = "elder_mode=" + (on ? "1" : "0") + "; path=/; max-age=31536000; samesite=lax";
      btn.setAttribute("aria-pressed", on ? "true" : "false");
      var state = btn.querySelector("[data-elder-state]");
      if (state) state.textContent = on ? "开" : "关";
    });
  }

  function setupNav() {
    var toggle = document.querySelector(".nav-toggle");
    var list = document.getElementById("nav-list");
    if (!toggle || !list) return;
    toggle.addEventListener("click", function () {
      var open = list.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  /* Region picker: cascading selects fill the hidden 12-digit code field. */
  var LEVEL_NAMES = { 1: "省", 2: "市（州）", 3: "县（市、区）", 4: "乡镇（街道）", 5: "村（社区）" };

  function setupRegionPicker(box) {
    var input = box.querySelector("[data-region-value]");
    var holder = box.querySelector("[data-region-selects]");
    var manual = box.querySelector("[data-region-manual]");
    var minLevel = parseInt(box.getAttribute("data-min-level") || "4", 10);
    if (!input || !holder) return;
    if (manual) manual.hidden = true;
    var uid = input.id;

    function addSelect(level, items, selected) {
      var wrap = document.createElement("div");
      wrap.className = "region-level";
      var label = document.createElement("label");
      var sel = document.createElement("select");
      sel.id = uid + "-level-" + level;
      label.setAttribute("for", sel.id);
      label.textContent = LEVEL_NAMES[level] || "下级";
      var first = document.createElement("option");
      first.value = "";
      first.textContent = "请选择" + (LEVEL_NAMES[level] || "");
      sel.appendChild(first);
      items.forEach(function (it) {
        var o = document.createElement("option");
        o.value = it.code;
        o.textContent = it.name;
        if (it.code === selected) o.selected = true;
        sel.appendChild(o);
      });
      sel.setAttribute("data-level", level);
      sel.addEventListener("change", function () { onChange(sel, level); });
      wrap.appendChild(label);
      wrap.appendChild(sel);
      holder.appendChild(wrap);
      return sel;
    }

    function removeBelow(level) {
      Array.prototype.slice.call(holder.querySelectorAll(".region-level")).forEach(function (w) {
        var s = w.querySelector("select");
        if (parseInt(s.getAttribute("data-level"), 10) > level) w.remove();
      });
    }

    function onChange(sel, level) {
      removeBelow(level);
      var code = sel.value;
      if (!code) {
        var prev = holder.querySelector('select[data-level="' + (level - 1) + '"]');
        input.value = prev ? prev.value : "";
      } else {
        input.value = code;
      }
      input.dispatchEvent(new Event("change", { bubbles: true }));
      if (code) loadChildren(code, level + 1, null);
    }

    function loadChildren(code, level, selected) {
      return Portal.fetchJSON("/regions/" + code + "/children").then(function (items) {
        if (items.length) addSelect(level, items, selected);
        return items;
      });
    }

    var initial = input.value;
    Portal.fetchJSON("/regions/roots").then(function (roots) {
      if (!initial || initial.length !== 12) { addSelect(1, roots, null); return; }
      return Portal.fetchJSON("/regions/" + initial).then(function (info) {
        var path = info.path;
        addSelect(1, roots, path[0].code);
        var chain = Promise.resolve();
        path.forEach(function (node, i) {
          chain = chain.then(function () {
            return loadChildren(node.code, node.level + 1, path[i + 1] ? path[i + 1].code : null);
          });
        });
      }).catch(function () { addSelect(1, roots, null); });
    });
    box.setAttribute("data-min-level", String(minLevel));
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupElderMode();
    setupNav();
    Array.prototype.forEach.call(document.querySelectorAll("[data-region-picker]"), setupRegionPicker);
  });
})();
