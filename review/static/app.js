// Keyboard shortcuts for the review queue, item search for "link to item", upload progress.
(function () {
  "use strict";

  function typing(event) {
    var tag = event.target && event.target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var key = event.key.toLowerCase();
    if (key === "m") {
      var target = document.getElementById("target");
      if (target) { event.preventDefault(); target.focus(); }
      return;
    }
    var button = document.querySelector('button[data-key="' + key + '"]');
    if (button) {
      event.preventDefault();
      button.click();
    }
  });

  var target = document.getElementById("target");
  var choices = document.getElementById("item-choices");
  if (target && choices) {
    var timer = null;
    target.addEventListener("input", function () {
      clearTimeout(timer);
      var q = target.value.trim();
      if (q.length < 3 || /^CR-\d+$/i.test(q)) return;
      timer = setTimeout(function () {
        var council = target.dataset.council || "";
        fetch("/items.json?q=" + encodeURIComponent(q) + "&council=" + encodeURIComponent(council), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            choices.replaceChildren();
            (data.items || []).slice(0, 20).forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.id;
              option.label = (item.code ? item.code + " " : "") + item.title + " (" + item.periods.join(", ") + ")";
              choices.appendChild(option);
            });
          });
      }, 200);
    });
  }

  var state = document.getElementById("job-state");
  if (state && state.textContent.trim() !== "finished") {
    var poll = function () {
      fetch("/uploads/" + state.dataset.job + ".json", { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          var body = document.getElementById("files");
          body.replaceChildren();
          job.files.forEach(function (f) {
            var row = document.createElement("tr");
            [f.name, f.state, String(f.records), f.reason || ""].forEach(function (text, i) {
              var cell = document.createElement("td");
              cell.textContent = text;
              if (i === 1) cell.className = "state";
              row.appendChild(cell);
            });
            body.appendChild(row);
          });
          if (job.finished) {
            state.textContent = "finished";
            var m = job.matched || {};
            var matched = document.getElementById("matched");
            matched.textContent = "Matching: " + (m.auto || 0) + " auto, " + (m.pending || 0) + " pending review, " + (m.new || 0) + " new. ";
            var link = document.createElement("a");
            link.href = "/queue";
            link.textContent = "Go to the review queue";
            matched.appendChild(link);
          } else {
            setTimeout(poll, 1000);
          }
        });
    };
    setTimeout(poll, 500);
  }
})();
