// The workbench home: find an organization, a person or a case, or browse the organization
// tree; every entry links to the views the API serves. Reads go to the API with the session cookie.
(function () {
  "use strict";
  var home = JSON.parse(document.getElementById("rtc-home").textContent);
  function get(path) {
    return fetch(path, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; });
  }
  function link(text, href) {
    var a = document.createElement("a");
    a.textContent = text;
    a.href = href;
    return a;
  }
  function orgItem(o) {
    var li = document.createElement("li");
    li.dataset.id = o.id;
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = o.name + " (" + o.id + ", " + o.level + ")";
    li.appendChild(name);
    [["pressure map", "/views/pressure?root=" + encodeURIComponent(o.id)],
     ["duties", "/views/duties/" + encodeURIComponent(o.id)]].forEach(function (l) {
      li.appendChild(document.createTextNode(" · "));
      li.appendChild(link(l[0], l[1]));
    });
    var open = document.createElement("button");
    open.type = "button";
    open.className = "open";
    open.textContent = "+";
    open.title = "show the organizations under it";
    open.addEventListener("click", function () {
      if (li.querySelector("ul")) { li.removeChild(li.querySelector("ul")); open.textContent = "+"; return; }
      get("/organizations/" + encodeURIComponent(o.id) + "/children").then(function (kids) {
        var ul = document.createElement("ul");
        (kids || []).forEach(function (k) { ul.appendChild(orgItem(k)); });
        if (!(kids || []).length) ul.appendChild(document.createTextNode("none"));
        li.appendChild(ul);
        open.textContent = "−";
      });
    });
    li.insertBefore(open, li.firstChild);
    return li;
  }
  var tree = document.getElementById("tree");
  home.roots.forEach(function (o) { tree.appendChild(orgItem(o)); });

  var found = document.getElementById("found");
  function show(q) {
    found.innerHTML = "";
    if (!q.trim()) return;
    var query = encodeURIComponent(q.trim());
    Promise.all([
      get("/organizations?limit=20&q=" + query),
      get("/persons?limit=20&q=" + query),
      get("/cases?limit=20&q=" + query),
    ]).then(function (r) {
      ((r[0] || {}).data || []).forEach(function (o) { found.appendChild(orgItem(o)); });
      ((r[1] || {}).data || []).forEach(function (p) {
        var li = document.createElement("li");
        li.appendChild(link("career: " + (p.name || p.id) + " (" + p.id + ")", "/views/persons/" + encodeURIComponent(p.id)));
        found.appendChild(li);
      });
      ((r[2] || {}).data || []).forEach(function (c) {
        var li = document.createElement("li");
        li.appendChild(link("case " + c.id + ": accountability chain (" + c.org_id + ", " + c.category + ")",
                            "/views/cases/" + encodeURIComponent(c.id)));
        found.appendChild(li);
      });
      var more = r.reduce(function (n, page) { return n + (page ? page.total - page.count : 0); }, 0);
      if (more > 0) {
        var li = document.createElement("li");
        li.className = "more";
        li.textContent = "… " + more + " more: type more of the name or the id";
        found.appendChild(li);
      }
      if (!found.children.length) found.textContent = "nothing found";
    });
  }
  var box = document.getElementById("find"), timer = null;
  box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { show(box.value); }, 200); });
  box.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { clearTimeout(timer); show(box.value); } });
  window.rtcHome = { show: show };
})();
