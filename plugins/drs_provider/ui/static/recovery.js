// The Recovery view's only script: refreshes a run page while the run goes on, answers
// approvals through Airflow's REST API (PATCH .../hitlDetails) with the signed-in user's own
// permissions, and lets links leave the Airflow UI's frame. Served by the plugin; nothing is
// loaded from elsewhere.
"use strict";

// Inside the Airflow UI a page is shown in a sandboxed frame, which may neither navigate the UI
// (target=_top) nor open a tab (target=_blank). The frame shares the UI's origin, so such a link
// is followed by an anchor in the UI's own document instead.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[target]");
  if (!link || event.defaultPrevented || event.button !== 0 || window.top === window) {
    return;
  }
  let host;
  try {
    host = window.top.document;
  } catch (notSameOrigin) {
    return;
  }
  event.preventDefault();
  const proxy = host.createElement("a");
  proxy.href = link.href;
  proxy.target = event.ctrlKey || event.metaKey || link.target === "_blank" ? "_blank" : "_self";
  proxy.rel = "noopener noreferrer";
  host.body.appendChild(proxy);
  proxy.click();
  proxy.remove();
});

(function () {
  const main = document.getElementById("recovery");
  if (!main) {
    return;
  }
  const fragmentUrl = main.dataset.fragmentUrl;
  const interval = Number(main.dataset.refreshSeconds || "3") * 1000;
  let answering = 0;
  // Answers started so far: a refresh that was already on its way when an answer started shows
  // the page from before it, so its fragment is dropped rather than wiping the answer's status.
  let answersStarted = 0;
  let timer = null;

  function runFinished() {
    const run = main.querySelector(".run");
    return !run || run.dataset.finished === "true";
  }

  function notice(text) {
    let element = document.getElementById("notice");
    if (!text) {
      if (element) {
        element.remove();
      }
      return;
    }
    if (!element) {
      element = document.createElement("p");
      element.id = "notice";
      element.className = "notice";
      element.setAttribute("role", "alert");
      document.body.prepend(element);
    }
    element.textContent = text;
  }

  function schedule(delay) {
    clearTimeout(timer);
    if (!runFinished()) {
      timer = setTimeout(refresh, delay === undefined ? interval : delay);
    }
  }

  async function refresh() {
    if (answering > 0) {
      schedule();
      return;
    }
    const answersBefore = answersStarted;
    try {
      const response = await fetch(fragmentUrl, { credentials: "same-origin", headers: { Accept: "text/html" } });
      const fragment = response.ok ? await response.text() : null;
      if (answersStarted !== answersBefore || answering > 0) {
        // stale: an answer started meanwhile; the next refresh shows the page after it
      } else if (fragment !== null) {
        main.innerHTML = fragment;
        notice("");
      } else if (response.status === 401 || response.status === 403) {
        notice("Your Airflow session has ended or does not allow this run: sign in again and reload the page.");
        return;
      } else {
        notice("Could not refresh (HTTP " + response.status + "); trying again.");
      }
    } catch (error) {
      notice("Could not refresh (" + error + "); trying again.");
    }
    schedule();
  }

  async function answer(button) {
    const approval = button.closest(".approval");
    const status = approval.querySelector(".answer-status");
    const option = button.dataset.option;
    approval.querySelectorAll("button.answer").forEach((each) => { each.disabled = true; });
    status.textContent = "Sending '" + option + "' ...";
    answering += 1;
    answersStarted += 1;
    try {
      const response = await fetch(approval.dataset.answerUrl, {
        method: "PATCH",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ chosen_options: [option], params_input: {} }),
      });
      if (response.ok) {
        status.textContent = "Answered '" + option + "'. The run goes on.";
        approval.dataset.answered = option;
      } else {
        let detail = "";
        try {
          detail = (await response.json()).detail;
        } catch (ignored) {
          detail = response.statusText;
        }
        status.textContent = "Not answered (HTTP " + response.status + "): " + (typeof detail === "string" ? detail : JSON.stringify(detail));
        approval.querySelectorAll("button.answer").forEach((each) => { each.disabled = false; });
      }
    } catch (error) {
      status.textContent = "Not answered: " + error;
      approval.querySelectorAll("button.answer").forEach((each) => { each.disabled = false; });
    } finally {
      answering -= 1;
    }
    schedule(1000);
  }

  // "Terminate this drill's instances": the page asks first (in the page: a sandboxed frame may
  // not open confirm()), then posts the run's id as confirm; the endpoint checks both again.
  async function terminate(action) {
    const status = action.querySelector(".terminate-status");
    action.querySelectorAll("button").forEach((each) => { each.disabled = true; });
    status.textContent = "Terminating; DRS takes a minute or two ...";
    answering += 1;
    try {
      const response = await fetch(action.dataset.terminateUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ confirm: action.dataset.confirm }),
      });
      let answer = {};
      try {
        answer = await response.json();
      } catch (ignored) {
        answer = { detail: response.statusText };
      }
      if (response.ok) {
        const cleanup = answer.cleanup || {};
        status.textContent = "Terminated: " + (cleanup.terminated || []).join(", ") +
          ((cleanup.terminating || []).length ? "; still terminating: " + cleanup.terminating.join(", ") : "") +
          ((cleanup.failed || []).length ? "; not terminated: " + cleanup.failed.join(", ") : "") +
          (answer.store_error ? "; the report's S3 object was not rewritten: " + answer.store_error : "");
        action.dataset.done = "true";
        setTimeout(refresh, 1500);
      } else {
        const detail = answer.detail;
        status.textContent = "Not terminated (HTTP " + response.status + "): " + (typeof detail === "string" ? detail : JSON.stringify(detail));
        action.querySelectorAll("button").forEach((each) => { each.disabled = false; });
      }
    } catch (error) {
      status.textContent = "Not terminated: " + error;
      action.querySelectorAll("button").forEach((each) => { each.disabled = false; });
    } finally {
      answering -= 1;
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.answer");
    if (button && main.contains(button)) {
      answer(button);
      return;
    }
    const action = event.target.closest(".terminate");
    if (!action || !main.contains(action)) {
      return;
    }
    const confirmation = action.querySelector(".terminate-confirm");
    if (event.target.closest("button.terminate-ask")) {
      confirmation.hidden = false;
    } else if (event.target.closest("button.terminate-no")) {
      confirmation.hidden = true;
    } else if (event.target.closest("button.terminate-yes")) {
      terminate(action);
    }
  });
  schedule();
  // Its buttons answer from here on (a page's tests wait for this before they click).
  main.dataset.ready = "true";
})();
