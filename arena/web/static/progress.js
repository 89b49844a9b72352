// Live progress of a tournament: server-sent events; the results are fetched again when matches were stored,
// at most every REFRESH_MS (the server recomputes the ranking for them).
(function () {
  const REFRESH_MS = 5000;
  const line = document.getElementById("progress");
  if (!line) return;
  let shown = null;
  let pending = false;
  let last = Date.now();
  const source = new EventSource(line.dataset.events);
  source.onmessage = function (event) {
    const progress = JSON.parse(event.data);
    line.textContent = progress.text;
    if (shown === null) shown = progress.done;
    if (progress.done !== shown && !pending && Date.now() - last >= REFRESH_MS) {
      pending = true;
      shown = progress.done;
      fetch(line.dataset.results).then(function (reply) { return reply.text(); }).then(function (html) {
        document.getElementById("results").innerHTML = html;
        last = Date.now();
        pending = false;
      });
    }
  };
})();
