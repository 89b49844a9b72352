// Live progress of a tournament: server-sent events; the results are fetched again when matches are stored.
(function () {
  const line = document.getElementById("progress");
  if (!line) return;
  let shown = null;
  let pending = false;
  const source = new EventSource(line.dataset.events);
  source.onmessage = function (event) {
    const progress = JSON.parse(event.data);
    line.textContent = progress.text;
    if (shown !== null && progress.done !== shown && !pending) {
      pending = true;
      fetch(line.dataset.results).then(function (reply) { return reply.text(); }).then(function (html) {
        document.getElementById("results").innerHTML = html;
        pending = false;
      });
    }
    shown = progress.done;
  };
})();
