// Open a replay file by dropping it on the page (or choosing it): it is sent to the server, which checks it.
(function () {
  const zone = document.getElementById("drop");
  const chooser = document.getElementById("file");
  const problem = document.getElementById("drop-error");
  function send(file) {
    file.text().then(function (text) {
      return fetch("/api/replays", { method: "POST", body: text, headers: { "x-filename": file.name } });
    }).then(function (reply) { return reply.json(); }).then(function (data) {
      if (data.error) problem.textContent = data.error; else window.location = data.url;
    });
  }
  zone.addEventListener("dragover", function (event) { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) send(event.dataTransfer.files[0]);
  });
  chooser.addEventListener("change", function () { if (chooser.files.length) send(chooser.files[0]); });
})();
