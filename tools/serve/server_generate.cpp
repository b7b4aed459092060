// POST /v1/chat/completions and /v1/completions: parse, render, check the context, compile the
// constraint, wait for a slot, generate; as one JSON object or as server-sent events.
#include <httplib.h>

#include "server.h"
#include "tool_calls.h"

namespace nibble::serve {
namespace {

// One admitted request, shared by the streaming callbacks (httplib copies them).
struct Job {
  std::unique_ptr<SlotPool::Lease> lease;
  GenerateRequest gen;
  Envelope env;
  bool chat = true;
  bool tools = false;  // the answer is tool-call JSON, interpreted at the end
  bool include_usage = false;
};

template <typename T>
std::optional<T> take(std::variant<T, ApiError>&& v, httplib::Response& res) {
  if (auto* e = std::get_if<ApiError>(&v)) {
    send_error(res, *e);
    return std::nullopt;
  }
  return std::move(std::get<T>(v));
}

json content_delta(std::string_view piece) { return json{{"content", std::string(piece)}}; }

// The chunks that close a stream: the answer of a tool request (which cannot be streamed
// before it is complete JSON), the finish reason, usage.
std::vector<json> closing_chunks(const Job& job, const GenerateResult& r) {
  std::vector<json> out;
  std::string finish = r.finish_reason;
  if (job.tools) {
    ToolAnswer a = read_tool_answer(r.text, finish, std::hash<std::string>{}(job.env.id));
    finish = a.finish_reason;
    if (a.tool_calls.is_array()) {
      json calls = a.tool_calls;
      for (size_t i = 0; i < calls.size(); ++i) calls[i]["index"] = i;
      out.push_back(chat_chunk(job.env, json{{"tool_calls", calls}}, ""));
    } else {
      out.push_back(chat_chunk(job.env, content_delta(a.content), ""));
    }
  }
  if (job.chat)
    out.push_back(chat_chunk(job.env, json::object(), finish));
  else
    out.push_back(text_completion_chunk(job.env, "", finish));
  if (job.include_usage)
    out.push_back(usage_chunk(job.env, job.chat ? "chat.completion.chunk" : "text_completion",
                              r.usage));
  return out;
}

}  // namespace

// Runs the job into the response: one JSON object, or a stream whose generation happens while
// httplib writes it (each piece is one event; a failed write means the client is gone and ends
// the generation at once).
static void run_job(Backend& backend, const std::atomic<bool>& stopping,
                    std::atomic<uint64_t>& cancelled, std::shared_ptr<Job> job,
                    httplib::Response& res, bool stream) {
  if (!stream) {
    auto r = backend.generate(job->lease->slot(), job->gen,
                              [&](std::string_view) { return !stopping.load(); });
    job->lease.reset();
    auto got = take(std::move(r), res);
    if (!got) return;
    if (got->finish_reason == "cancelled") got->finish_reason = "stop";
    json body;
    if (!job->chat) {
      body = text_completion(job->env, got->text, got->finish_reason, got->usage);
    } else if (job->tools) {
      ToolAnswer a = read_tool_answer(got->text, got->finish_reason,
                                    std::hash<std::string>{}(job->env.id));
      body = chat_completion(job->env, a.content, a.tool_calls, a.finish_reason, got->usage);
    } else {
      body = chat_completion(job->env, got->text, nullptr, got->finish_reason, got->usage);
    }
    res.set_content(dump(body), "application/json");
    return;
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [&backend, &stopping, &cancelled, job](size_t, httplib::DataSink& sink) {
        auto send = [&](const std::string& s) {
          return !stopping.load() && sink.write(s.data(), s.size());
        };
        if (job->chat &&
            !send(sse_event(chat_chunk(job->env, {{"role", "assistant"}, {"content", ""}}, ""))))
          return false;
        PieceSink pieces;
        // Empty pieces (prompt progress) and tool-call text (sent once the JSON is complete)
        // become SSE comments, which clients ignore: a failed write still finds a client gone.
        pieces = [&](std::string_view p) {
          if (p.empty() || job->tools) return send(":\n\n");
          if (job->chat) return send(sse_event(chat_chunk(job->env, content_delta(p), "")));
          return send(sse_event(text_completion_chunk(job->env, std::string(p), "")));
        };
        auto r = backend.generate(job->lease->slot(), job->gen, pieces);
        job->lease.reset();  // the slot is free before the last bytes go out
        if (auto* e = std::get_if<ApiError>(&r)) {
          send(sse_event(error_body(*e)));
        } else {
          auto& g = std::get<GenerateResult>(r);
          if (g.finish_reason == "cancelled") {  // client gone (or shutdown): close
            cancelled.fetch_add(1);
            return false;
          }
          for (const auto& chunk : closing_chunks(*job, g))
            if (!send(sse_event(chunk))) return false;
        }
        send("data: [DONE]\n\n");
        sink.done();
        return true;
      },
      [job](bool) { job->lease.reset(); });
}

void Api::chat(const httplib::Request& req, httplib::Response& res) {
  auto doc = take(parse_json(req.body, options_.limits), res);
  if (!doc) return;
  auto r = take(parse_chat_request(*doc, options_.limits), res);
  if (!r) return;
  const Constraint constraint = prepare_tools(*r);
  auto prompt = take(backend_.chat_prompt(r->messages), res);
  if (!prompt) return;
  if (auto e = check_context(prompt->size())) return send_error(res, *e);
  if (auto e = backend_.check_params(r->gen)) return send_error(res, *e);
  auto compiled = take(backend_.compile(constraint), res);
  if (!compiled) return;
  auto job = std::make_shared<Job>();
  job->lease = take_slot(*prompt, res);
  if (!job->lease) return;
  job->gen.prompt = std::move(*prompt);
  job->gen.params = r->gen;
  job->gen.constraint = std::move(*compiled);
  job->env = envelope("chatcmpl");
  job->tools = r->tool_choice != ToolChoice::none && !r->tools.empty();
  job->include_usage = r->gen.include_usage;
  run_job(backend_, stopping_, cancelled_, std::move(job), res, r->gen.stream);
}

void Api::completions(const httplib::Request& req, httplib::Response& res) {
  auto doc = take(parse_json(req.body, options_.limits), res);
  if (!doc) return;
  auto r = take(parse_completion_request(*doc, options_.limits), res);
  if (!r) return;
  auto prompt = take(backend_.text_prompt(r->prompt), res);
  if (!prompt) return;
  if (auto e = check_context(prompt->size())) {
    e->param = "prompt";
    return send_error(res, *e);
  }
  if (auto e = backend_.check_params(r->gen)) return send_error(res, *e);
  auto job = std::make_shared<Job>();
  job->lease = take_slot(*prompt, res);
  if (!job->lease) return;
  job->gen.prompt = std::move(*prompt);
  job->gen.params = r->gen;
  job->env = envelope("cmpl");
  job->chat = false;
  job->include_usage = r->gen.include_usage;
  run_job(backend_, stopping_, cancelled_, std::move(job), res, r->gen.stream);
}

}  // namespace nibble::serve
