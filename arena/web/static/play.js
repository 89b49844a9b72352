// The play page: start a game, then show its position, your legal moves as buttons and the moves so far.
(function () {
  const form = document.getElementById("new-game");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const game = { env: form.env.value, opponent: form.opponent.value, seat: Number(form.seat.value) };
      fetch("/api/play", { method: "POST", body: JSON.stringify(game), headers: { "content-type": "application/json" } })
        .then(function (reply) { return reply.json(); }).then(function (data) {
          if (data.error) document.getElementById("play-error").textContent = data.error;
          else window.location = data.url;
        });
    });
    return;
  }
  const root = document.getElementById("game");
  if (!root) return;
  const status = document.getElementById("status");
  const legal = document.getElementById("legal");
  const picture = document.getElementById("picture");
  let drawn = null;
  let asked = null;

  function move(action) {
    legal.replaceChildren();
    fetch(root.dataset.src + "/move", {
      method: "POST", body: JSON.stringify({ action: action }), headers: { "content-type": "application/json" },
    });
  }

  function update(state) {
    root.dataset.status = state.status;
    status.textContent = state.status === "your move" ? "your move (" + state.prompt.player + ")"
      : state.status === "opponent" ? "the opponent is thinking" : state.status;
    if (state.picture !== null && state.picture !== drawn) {
      drawn = state.picture;
      picture.src = root.dataset.src + "/picture.png?n=" + drawn;
    }
    const key = state.prompt ? JSON.stringify(state.prompt) + state.log.length : null;
    if (key !== asked) {
      asked = key;
      legal.replaceChildren();
      document.getElementById("seen").textContent = state.prompt ? state.prompt.text : "";
      if (state.prompt) {
        state.prompt.legal.forEach(function (choice) {
          const button = document.createElement("button");
          button.textContent = choice.name;
          button.className = "legal-move";
          button.dataset.action = String(choice.action);
          button.onclick = function () { move(choice.action); };
          legal.append(button);
        });
      }
    }
    const log = document.getElementById("log");
    if (log.children.length !== state.log.length) {
      log.replaceChildren();
      state.log.forEach(function (entry) {
        const item = document.createElement("li");
        item.textContent = entry.player + " (" + entry.agent + "): " + entry.move;
        log.append(item);
      });
    }
    const outcome = document.getElementById("outcome");
    if (state.status === "over") {
      outcome.replaceChildren();
      outcome.append(document.createTextNode("result: " + state.result.agents.map(function (a, i) {
        return a + " " + (state.result.payoffs[i] >= 0 ? "+" : "") + state.result.payoffs[i];
      }).join(", ") + ". Stored as match " + state.match_id + ": "));
      const link = document.createElement("a");
      link.href = state.match_url;
      link.id = "stored-match";
      link.textContent = "watch its replay";
      outcome.append(link);
    } else if (state.status === "error") {
      outcome.textContent = state.error;
      outcome.className = "error";
    }
    return state.status === "over" || state.status === "error";
  }

  function poll() {
    fetch(root.dataset.src).then(function (reply) { return reply.json(); }).then(function (state) {
      if (!update(state)) setTimeout(poll, 250);
    });
  }
  poll();
})();
