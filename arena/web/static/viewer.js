// The replay viewer: the position after each step as a picture, each move with what its player saw.
(function () {
  const root = document.getElementById("viewer");
  if (!root) return;
  const picture = document.getElementById("picture");
  const counter = document.getElementById("counter");
  const moves = document.getElementById("moves");
  const playing = document.getElementById("playing");
  const speed = document.getElementById("speed");
  let replay = null;
  let t = 0;
  let timer = null;

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function last() { return replay.steps.length; }

  function show(step) {
    t = Math.max(0, Math.min(step, last()));
    counter.textContent = "step " + t + " / " + last();
    root.dataset.step = String(t);
    if (replay.frames > 0) picture.src = root.dataset.src + "/frame/" + Math.min(t, replay.frames - 1) + ".png";
    moves.replaceChildren();
    if (t === 0) {
      moves.append(element("p", "The start: " + replay.agents.map(function (a, i) {
        return replay.players[i] + " is " + a; }).join(", ") + ". Seed " + replay.seed + "."));
      return;
    }
    const current = replay.steps[t - 1];
    current.moves.forEach(function (move) {
      const box = element("div", undefined, "move");
      box.append(element("b", move.player + " (" + move.agent + ") plays " + move.action_name));
      if (move.text) box.append(element("pre", move.text));
      (move.transcript || []).forEach(function (request, i) {
        ["prompt", "reply", "reasoning", "error"].forEach(function (key) {
          if (!request[key]) return;
          const details = element("details", undefined, "transcript-" + key);
          details.open = key !== "prompt";
          details.append(element("summary", request.kind + " " + (i + 1) + ": " + key));
          details.append(element("pre", request[key]));
          box.append(details);
        });
      });
      moves.append(box);
    });
    moves.append(element("p", "rewards: " + current.rewards.join(", ")));
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    playing.textContent = "play";
  }

  function start() {
    if (t >= last()) show(0);
    playing.textContent = "pause";
    timer = setInterval(function () {
      show(t + 1);
      if (t >= last()) stop();
    }, 1000 / Number(speed.value));
  }

  document.getElementById("first").onclick = function () { stop(); show(0); };
  document.getElementById("back").onclick = function () { stop(); show(t - 1); };
  document.getElementById("forward").onclick = function () { stop(); show(t + 1); };
  document.getElementById("last").onclick = function () { stop(); show(last()); };
  playing.onclick = function () { if (timer === null) start(); else stop(); };
  speed.onchange = function () { if (timer !== null) { stop(); start(); } };

  fetch(root.dataset.src).then(function (reply) { return reply.json(); }).then(function (data) {
    if (data.error) { document.getElementById("notes").textContent = data.error; return; }
    replay = data;
    document.getElementById("notes").textContent = data.notes.join(" ");
    if (data.result) {
      document.getElementById("outcome").textContent = "result: " + data.result.agents.map(function (a, i) {
        return a + " " + (data.result.payoffs[i] >= 0 ? "+" : "") + data.result.payoffs[i];
      }).join(", ") + " (" + data.result.termination + ", " + data.result.length + " steps)";
    }
    root.dataset.steps = String(last());
    show(0);
  });
})();
