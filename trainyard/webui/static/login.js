"use strict";
document.getElementById("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const err = document.getElementById("login-error");
  err.textContent = "";
  try {
    await TY.api("/auth/login", { method: "POST", json: { token: document.getElementById("token").value.trim() } });
    location.href = form.dataset.next || "/ui/experiments";
  } catch (e) {
    err.textContent = e.message === "not signed in" ? "unknown token: check it and try again" : e.message;
  }
});
