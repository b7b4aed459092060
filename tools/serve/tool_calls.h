// Tools for chat completions (`tools`, `tool_choice`), for any chat template: the tools are
// described to the model in a system message, and the answer is generated under a JSON
// Schema grammar that admits exactly
//   {"tool_calls": [{"name": <one of the tools>, "arguments": <its parameters schema>}, ...]}
// or, with tool_choice "auto", also {"content": "<text>"}. The JSON is then turned into
// OpenAI's message.tool_calls. Earlier tool calls and tool results in the conversation are
// rendered as text the same way (docs/serve.md, "Tools").
#pragma once

#include <string>

#include "backend.h"
#include "protocol.h"

namespace nibble::serve {

// Rewrites r.messages for the template (tool description, earlier calls and results as text)
// and returns the constraint the answer must follow. Requests without tools (or with
// tool_choice "none") get their response_format's constraint and messages whose earlier tool
// turns are rendered as text.
Constraint prepare_tools(ChatRequest& r);

struct ToolAnswer {
  std::string content;   // text answer (tool_choice auto)
  json tool_calls;       // OpenAI tool_calls array, or null
  std::string finish_reason;
};
// Interprets the generated JSON. Text that does not parse (generation cut short by
// max_tokens) comes back as content with finish_reason "length".
ToolAnswer read_tool_answer(const std::string& text, const std::string& finish_reason,
                            uint64_t id_seed);

}  // namespace nibble::serve
