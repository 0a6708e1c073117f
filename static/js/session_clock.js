/* The session's clock on every signed-in page (practice.autosave).
 *
 * - A few minutes before the idle sign-out, a warning with a large "Stay signed in" button.
 * - Typing in a form keeps the session alive (a ping at most once a minute), never past the absolute limit,
 *   which the server enforces whatever this script does. A screen nobody types in still signs out as before.
 * - The page's form (data-autosave-form) is copied to the server as it is typed, so that what was typed
 *   comes back after signing in again. */
(function () {
  "use strict";

  var clock = document.getElementById("session-clock");
  if (!clock || !window.fetch || !window.URLSearchParams) {
    return;
  }
  var MINUTE = 60000;
  // A copy a few seconds after typing pauses, and at least every ten seconds of typing.
  var SAVE_AFTER = 3000;
  var SAVE_AT_MOST = 10000;

  var idleMs = Number(clock.dataset.idleSeconds) * 1000;
  var warnMs = Number(clock.dataset.warnSeconds) * 1000;
  var loaded = Date.now();
  var idleDeadline = loaded + Number(clock.dataset.idleLeft) * 1000;
  var absoluteDeadline = loaded + Number(clock.dataset.absoluteLeft) * 1000;
  // When the server last saw this session: typing pings only when that was a minute ago or more.
  var lastContact = idleDeadline - idleMs;
  var signedOut = false;
  var timer = null;
  var returnFocus = null;

  var title = document.getElementById("session-clock-title");
  var text = clock.querySelector("[data-clock-text]");
  var stay = clock.querySelector("[data-clock-stay]");
  var signIn = clock.querySelector("[data-clock-sign-in]");
  var form = clock.dataset.autosaveForm ? document.getElementById(clock.dataset.autosaveForm) : null;
  var dirty = false;
  var saving = false;
  var submitting = false;
  var firstUnsaved = 0;
  var lastSent = "";
  var saveTimer = null;

  function csrfToken() {
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function duration(ms) {
    var minutes = Math.round(ms / MINUTE);
    return minutes >= 1 ? minutes + (minutes === 1 ? " minute" : " minutes") : Math.round(ms / 1000) + " seconds";
  }

  function timeOf(ms) {
    return new Date(ms).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: body,
    }).then(function (response) {
      // The sign-out already happened: the server sent the request on to the sign-in page.
      if (response.redirected) {
        showSignedOut();
        throw new Error("signed out");
      }
      if (!response.ok) {
        throw new Error("status " + response.status);
      }
      return response.json().then(sync);
    });
  }

  function sync(data) {
    var now = Date.now();
    lastContact = now;
    idleDeadline = now + data.idle_left * 1000;
    absoluteDeadline = now + data.absolute_left * 1000;
    schedule();
  }

  function ping() {
    lastContact = Date.now();  // one ping at a time
    return post(clock.dataset.keepaliveUrl, new URLSearchParams()).catch(function () {});
  }

  function schedule() {
    clearTimeout(timer);
    if (signedOut) {
      return;
    }
    var now = Date.now();
    var end = Math.min(idleDeadline, absoluteDeadline);
    if (now >= end) {
      showSignedOut();
    } else if (now >= end - warnMs) {
      showWarning(end);
      timer = setTimeout(schedule, end - now);
    } else {
      hide();
      timer = setTimeout(schedule, end - warnMs - now);
    }
  }

  function open() {
    if (clock.hidden) {
      returnFocus = document.activeElement;
      clock.hidden = false;
    }
    // Room below the page, so that the warning never covers its last lines (a form's Save button).
    document.body.style.paddingBottom = clock.offsetHeight + 32 + "px";
  }

  function showWarning(end) {
    var wasHidden = clock.hidden;
    var final = absoluteDeadline <= idleDeadline;
    title.textContent = "You will be signed out soon";
    if (final) {
      text.textContent =
        "Your sign-in ends at " + timeOf(end) + ", " + Math.round(Number(clock.dataset.absoluteSeconds) / 3600) +
        " hours after you signed in. Save your work now; then sign in again to go on.";
    } else {
      text.textContent =
        "For privacy you are signed out after " + duration(idleMs) + " without activity: at " + timeOf(end) + ". Choose \u201cStay signed in\u201d to keep working.";
    }
    stay.hidden = final;
    signIn.hidden = true;
    open();
    if (wasHidden) {
      save();
      (final ? clock : stay).focus();
    }
  }

  function showSignedOut() {
    if (signedOut) {
      return;
    }
    signedOut = true;
    clearTimeout(timer);
    title.textContent = "You have been signed out";
    text.textContent = form
      ? "What you typed until " + timeOf(lastContact) + " is kept: sign in again to go on with this form."
      : "Sign in again to go on.";
    stay.hidden = true;
    signIn.href = clock.dataset.loginUrl + "?" + new URLSearchParams({ next: window.location.pathname });
    signIn.hidden = false;
    open();
  }

  function hide() {
    if (clock.hidden) {
      return;
    }
    clock.hidden = true;
    document.body.style.paddingBottom = "";
    if (returnFocus && clock.contains(document.activeElement) && document.contains(returnFocus)) {
      returnFocus.focus();
    }
  }

  function queueSave() {
    if (!form || submitting) {
      return;
    }
    dirty = true;
    var now = Date.now();
    firstUnsaved = firstUnsaved || now;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, Math.min(SAVE_AFTER, Math.max(0, firstUnsaved + SAVE_AT_MOST - now)));
  }

  function fields() {
    var data = new URLSearchParams(new FormData(form));
    Array.prototype.forEach.call(form.querySelectorAll('input[type="password"]'), function (input) {
      data.delete(input.name);
    });
    data.set("autosave_path", window.location.pathname);
    return data;
  }

  function save() {
    clearTimeout(saveTimer);
    if (!form || !dirty || signedOut || submitting) {
      return;
    }
    if (saving) {
      saveTimer = setTimeout(save, 1000);
      return;
    }
    dirty = false;
    firstUnsaved = 0;
    var body = fields();
    if (body.toString() === lastSent) {
      return;  // nothing new: no request, which would also count as activity
    }
    saving = true;
    post(clock.dataset.autosaveUrl, body)
      .then(function () {
        lastSent = body.toString();
      })
      .catch(function () {
        dirty = !signedOut;
      })
      .then(function () {
        saving = false;
      });
  }

  function isTextField(element) {
    return element.tagName === "TEXTAREA" || (element.tagName === "INPUT" && !/^(checkbox|radio)$/.test(element.type));
  }

  function onTyping(event) {
    var target = event.target;
    if (!target || !target.form || signedOut) {
      return;
    }
    // A text field's "change" comes when it loses focus (to the warning, say): its typing came as "input".
    if (event.type === "change" && isTextField(target)) {
      return;
    }
    var now = Date.now();
    if (now - lastContact >= MINUTE && now < absoluteDeadline) {
      ping();
    }
    if (target.form === form) {
      queueSave();
    }
  }

  document.addEventListener("input", onTyping, true);
  document.addEventListener("change", onTyping, true);
  if (form) {
    // Saving the form itself: its copy is deleted by the server once saved, so none may follow it.
    form.addEventListener("submit", function () {
      submitting = true;
      clearTimeout(saveTimer);
    });
    window.addEventListener("pageshow", function () {
      submitting = false;
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      save();
    } else {
      schedule();
    }
  });
  stay.addEventListener("click", function () {
    ping().then(function () {
      if (!signedOut) {
        hide();
      }
    });
  });
  clock.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !stay.hidden) {
      stay.click();
    }
  });
  clock.tabIndex = -1;
  schedule();
})();
