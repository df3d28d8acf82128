// signed-in.html: where the identity provider sends the sign-in window back.
// It hands the code and state to the console over a same-origin channel,
// drops them from the address bar and closes the window. The console checks
// the state and redeems the code with its PKCE verifier.

import { signInChannel, type SignInReply } from "./session.js";

const q = new URLSearchParams(location.search);
const reply: SignInReply = {
  state: q.get("state"),
  code: q.get("code"),
  error: q.get("error"),
  errorDescription: q.get("error_description"),
};
history.replaceState(null, "", location.pathname);
const channel = new BroadcastChannel(signInChannel);
channel.postMessage(reply);
channel.close();
const msg = document.getElementById("message");
if (msg) msg.textContent = reply.error ? "The sign-in did not succeed. Close this window and try again." : "Signed in. You can close this window.";
window.close();
