// Writes nibble's chat-template golden data: renders the chat templates stored in the shared
// vocabulary files, and nibble's built-in templates (read from src/chat/builtin_templates.cpp),
// with @huggingface/jinja — the reference implementation — for a set of conversations.
//
//   cd tools/chat-reference && npm ci && node generate.mjs [SHARED_DIR]
//
// Output: tests/data/chat/reference.json and snippets.json (committed; tests/chat/reference_test.cpp reads it).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "@huggingface/jinja";
import { readGgufMetadata } from "./gguf.mjs";
import { snippets } from "./snippets.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const shared = resolve(process.argv[2] ?? join(root, "../shared"));

// Conversations: each a list of [role, content]. Chosen to cover system prompts, multi-turn,
// ending on either role, special characters, Unicode (incl. Unicode spaces that trim strips),
// empty content and Qwen3's reasoning / tool turns.
const conversations = {
  single_user: [["user", "Hello!"]],
  system_user: [["system", "You are a helpful assistant."], ["user", "What is 2+2?"]],
  multi_turn: [
    ["system", "Be brief."],
    ["user", "Name a colour."],
    ["assistant", "Blue."],
    ["user", "Another one?"],
  ],
  ends_with_assistant: [
    ["user", "Hi"],
    ["assistant", "Hello! How can I help?"],
    ["user", "Tell me a joke."],
    ["assistant", "Why did the chicken cross the road?"],
  ],
  special_chars: [
    ["system", "Quotes ' \" and backslashes \\ \\n (literal), tabs\tand braces {{ x }} {% if %} {# c #}"],
    ["user", "<|im_end|> <|eot_id|> [INST] </s> <start_of_turn> & < > %}\n-}\nline"],
  ],
  unicode: [
    ["system", "Réponds en français, s'il te plaît. 日本語もOK。"],
    ["user", "\u3000\u00a0héllo 世界 🎉 مرحبا Ωμέγα\u00a0\u3000"],
    ["assistant", "Καλημέρα! 👋🏽"],
    ["user", "Ça va? ✓"],
  ],
  empty_content: [["system", ""], ["user", ""]],
  whitespace: [
    ["user", "\n\n  padded question  \n\n"],
    ["assistant", "  answer with spaces\t\n"],
    ["user", "\tnext\n"],
  ],
  reasoning: [
    ["user", "What is 6*7?"],
    ["assistant", "<think>\nSix times seven.\n</think>\n\n42"],
    ["user", "And 6*8?"],
    ["assistant", "<think>\nAdd six.\n</think>\n\n48"],
  ],
  reasoning_last_turn: [
    ["system", "Think first."],
    ["user", "Capital of France?"],
    ["assistant", "<think>\nEasy.\n</think>\n\nParis."],
  ],
  tool_turns: [
    ["user", "Weather in Paris?"],
    ["assistant", "Let me check."],
    ["tool", "<tool_response>sunny</tool_response>"],
    ["tool", "22C"],
    ["user", "Thanks"],
  ],
  long: Array.from({ length: 12 }, (_, i) => [i % 2 === 0 ? "user" : "assistant", `turn ${i} ` + "x".repeat(i)]),
  system_only: [["system", "Only a system prompt."]],
  no_messages: [],
};

function tokenText(kv, key) {
  const id = kv[key];
  return id === undefined ? "" : kv["tokenizer.ggml.tokens"][id];
}

function builtinSources() {
  const src = readFileSync(join(root, "src/chat/builtin_templates.cpp"), "utf8");
  const re = /\{"([a-z0-9-]+)", R"JINJA\(([\s\S]*?)\)JINJA"\}/g;
  const out = {};
  for (const m of src.matchAll(re)) out[m[1]] = m[2];
  if (Object.keys(out).length === 0) throw new Error("no built-in templates found");
  return out;
}

const templates = [];
// FNV-1a 64 of the UTF-8 bytes: the file templates are identified, not copied into the repo.
function fnv1a64(text) {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, "utf8")) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, "0");
}

for (const vocab of ["llama-bpe", "qwen2", "phi-3"]) {
  const file = `vocab/ggml-vocab-${vocab}.gguf`;
  const kv = readGgufMetadata(join(shared, file));
  templates.push({
    name: vocab,
    gguf: file,
    source_fnv1a64: fnv1a64(kv["tokenizer.chat_template"]),
    source_bytes: Buffer.byteLength(kv["tokenizer.chat_template"], "utf8"),
    bos_token: tokenText(kv, "tokenizer.ggml.bos_token_id"),
    eos_token: tokenText(kv, "tokenizer.ggml.eos_token_id"),
  });
}
for (const [family, source] of Object.entries(builtinSources())) {
  templates.push({ name: `builtin:${family}`, builtin: family, source, bos_token: "<s>", eos_token: "</s>" });
}

const cases = [];
const fileSources = {};
for (const t of templates) {
  if (t.gguf) fileSources[t.name] = readGgufMetadata(join(shared, t.gguf))["tokenizer.chat_template"];
}
for (const t of templates) {
  const tmpl = new Template(t.source ?? fileSources[t.name]);
  for (const [convName, conv] of Object.entries(conversations)) {
    const flagSets = [{}];
    if (t.name === "qwen2") flagSets.push({ enable_thinking: false });
    for (const agp of [true, false]) {
      for (const flags of flagSets) {
        const messages = conv.map(([role, content]) => ({ role, content }));
        const context = { messages, add_generation_prompt: agp, bos_token: t.bos_token, eos_token: t.eos_token, ...flags };
        const c = { template: t.name, conversation: convName, add_generation_prompt: agp, flags };
        try {
          c.expected = tmpl.render(context);
        } catch (e) {
          c.error = String(e.message ?? e);
        }
        cases.push(c);
      }
    }
  }
}

const out = {
  generator: "tools/chat-reference/generate.mjs",
  reference: "@huggingface/jinja " + JSON.parse(readFileSync(join(here, "node_modules/@huggingface/jinja/package.json"), "utf8")).version,
  conversations: Object.fromEntries(Object.entries(conversations).map(([k, v]) => [k, v.map(([role, content]) => ({ role, content }))])),
  templates,
  cases,
};
mkdirSync(join(root, "tests/data/chat"), { recursive: true });
writeFileSync(join(root, "tests/data/chat/reference.json"), JSON.stringify(out, null, 1) + "\n");
const snippetCases = snippets.map(([template, context]) => {
  const c = { template, context };
  try {
    c.expected = new Template(template).render(context);
  } catch (e) {
    c.error = String(e.message ?? e);
  }
  return c;
});
writeFileSync(join(root, "tests/data/chat/snippets.json"), JSON.stringify(snippetCases, null, 1) + "\n");
console.log(`wrote ${snippetCases.length} snippets (${snippetCases.filter((c) => c.error).length} errors)`);
console.log(`wrote ${cases.length} cases (${cases.filter((c) => c.error).length} expected errors)`);
