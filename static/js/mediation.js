/* Apply form: suggested organisations for the chosen region and dispute type; more respondents. */
(function () {
  "use strict";
  var form = document.getElementById("apply-form");
  if (!form) return;
  var typeSel = form.querySelector("select[name=dispute_type]");
  var regionInput = form.querySelector("[data-region-value]");
  var orgSel = form.querySelector("[data-org-select]");
  var hint = form.querySelector("[data-org-hint]");

  function refreshOrgs() {
    var code = regionInput ? regionInput.value : "";
    var type = typeSel ? typeSel.value : "";
    if (!code || code.length !== 12 || !type) return;
    var url = form.getAttribute("data-orgs-url") + "?region=" + encodeURIComponent(code) + "&type=" + encodeURIComponent(type);
    window.Portal.fetchJSON(url).then(function (orgs) {
      var keep = orgSel.value;
      while (orgSel.options.length > 1) orgSel.remove(1);
      orgs.forEach(function (o, i) {
        var opt = document.createElement("option");
        opt.value = String(o.id);
        opt.textContent = o.name + "（" + o.kind + "）" + (i === 0 ? " · 推荐" : "");
        if (opt.value === keep) opt.selected = true;
        orgSel.appendChild(opt);
      });
      hint.textContent = orgs.length ? "推荐：" + orgs[0].name + "。您也可以在以上" + orgs.length + "个组织中选择。"
        : "该地区暂无受理此类纠纷的调解组织，请拨打12348咨询。";
    }).catch(function () { hint.textContent = "暂时无法获取推荐的调解组织，提交后由系统自动分配。"; });
  }
  if (typeSel) typeSel.addEventListener("change", refreshOrgs);
  if (regionInput) regionInput.addEventListener("change", refreshOrgs);
  refreshOrgs();

  var addBtn = form.querySelector("[data-add-respondent]");
  var box = form.querySelector("[data-respondents]");
  if (addBtn && box) {
    addBtn.hidden = false;
    addBtn.addEventListener("click", function () {
      var entries = box.querySelectorAll("[data-respondent-entry]");
      if (entries.length >= 5) { addBtn.hidden = true; return; }
      var n = entries.length;
      var clone = entries[entries.length - 1].cloneNode(true);
      Array.prototype.forEach.call(clone.querySelectorAll("input, label, p[id]"), function (el) {
        ["id", "name", "for", "aria-describedby"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v) el.setAttribute(attr, v.replace(/respondents-\d+/g, "respondents-" + n));
        });
        if (el.tagName === "INPUT") el.value = "";
      });
      Array.prototype.forEach.call(clone.querySelectorAll(".error"), function (e) { e.remove(); });
      clone.querySelector("[data-no]").textContent = String(n + 1);
      box.insertBefore(clone, addBtn);
      clone.querySelector("input").focus();
      if (n + 1 >= 5) addBtn.hidden = true;
    });
  }
})();
