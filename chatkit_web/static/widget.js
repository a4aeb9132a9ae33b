// The widget page: OpenAI's ChatKit web component, pointed at this server.

const settings = JSON.parse(document.getElementById("page-settings").textContent);
const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "chatkit-widget-token";
// How long a script that neither loads nor fails may take before the page says so.
const LOAD_PATIENCE_MS = 15000;
const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

/** The ChatKit options for this server (SPEC §15.1), with `token` sent as a bearer token. */
function chatkitOptions(token) {
  const api = {
    url: new URL(settings.api_path, location.origin).href,
    domainKey: settings.domain_key,
    uploadStrategy: { type: "direct", uploadUrl: new URL(settings.upload_path, location.origin).href },
  };
  if (token) api.fetch = withBearer(token);
  return {
    api,
    history: { enabled: true, showDelete: true, showRename: true },
    threadItemActions: { feedback: true, retry: true },
    composer: { attachments: { enabled: true, maxSize: MAX_UPLOAD_BYTES } },
    onClientTool: answerByHand,
  };
}

function withBearer(token) {
  return (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
}

// A page of your own answers client tools in code; here a person answers them.
async function answerByHand({ name, params }) {
  const text = prompt(`The server called the client tool “${name}” with\n${JSON.stringify(params)}\n\nAnswer with a JSON object:`, "{}");
  try {
    const value = JSON.parse(text ?? "{}");
    return value && typeof value === "object" ? value : { value };
  } catch {
    return { error: "not JSON", text };
  }
}

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url;
    script.async = true;
    const timer = setTimeout(() => reject(new Error(`no answer within ${LOAD_PATIENCE_MS / 1000} s`)), LOAD_PATIENCE_MS);
    script.addEventListener("load", () => {
      clearTimeout(timer);
      resolve();
    });
    script.addEventListener("error", () => {
      clearTimeout(timer);
      reject(new Error("the request for the script failed"));
    });
    document.head.append(script);
  });
}

function showOffline(reason) {
  $("status").hidden = true;
  $("offline").hidden = false;
  $("offline-reason").textContent = reason;
  document.body.dataset.widget = "offline";
}

function mount(token) {
  const element = $("chatkit");
  element.setOptions(chatkitOptions(token));
  $("status").hidden = true;
  $("frame").hidden = false;
  document.body.dataset.widget = "ready";
}

function showSnippet() {
  const url = new URL(settings.api_path, location.origin).href;
  $("fetch-snippet").textContent = `chatkit.setOptions({
  api: {
    url: "${url}",
    domainKey: "${settings.domain_key}",
    fetch(url, options) {
      return fetch(url, {
        ...options,
        headers: { ...options.headers, Authorization: \`Bearer \${token}\` },
      });
    },
  },
});`;
  $("auth-hint").textContent = settings.auth === "bearer"
    ? "This server requires a bearer token (CHATKIT_AUTH=jwt). The token stays in this tab."
    : "This server runs without authentication; a token is not needed.";
}

function wire() {
  $("app-name").textContent = settings.app;
  $("script-host").textContent = new URL(settings.widget_script_url).host;
  $("offline-url").textContent = settings.widget_script_url;
  showSnippet();
  const panel = $("auth-panel");
  const toggle = $("auth-toggle");
  toggle.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    toggle.setAttribute("aria-expanded", String(!panel.hidden));
  });
  if (settings.auth === "bearer" && !sessionStorage.getItem(TOKEN_KEY)) {
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
  }
  $("token-input").value = sessionStorage.getItem(TOKEN_KEY) ?? "";
  $("auth-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token-input").value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    if (customElements.get("openai-chatkit")) mount(token);
  });
  $("chatkit").addEventListener("chatkit.error", (event) => {
    $("problem").hidden = false;
    $("problem-text").textContent = String(event.detail?.error?.message ?? event.detail?.error ?? "unknown error");
  });
}

async function start() {
  wire();
  try {
    await loadScript(settings.widget_script_url);
    await customElements.whenDefined("openai-chatkit");
  } catch (error) {
    showOffline(error.message);
    return;
  }
  mount(sessionStorage.getItem(TOKEN_KEY) ?? "");
}

start();
