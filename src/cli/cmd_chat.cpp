// mecllm chat -m MODEL [--template llama3|qwen|chatml|mistral] [--system TEXT] [-n N]
//             [sampling flags as generate] [--threads T] [--ctx C] [--type q8_0] [--kv-type f16]
//             [--tokenizer F]
//   Multi-turn chat on stdin/stdout: one user message per line, the reply streams back.
//   "/reset" starts a new conversation; end of input quits.
#include <fmt/format.h>

#include <iostream>

#include "cli/command.h"
#include "cli/runtime_flags.h"
#include "runtime/chat.h"

namespace {

using namespace mecllm::runtime;

void setup(CLI::App& app) {
  struct Args {
    std::string model, tmpl, system, tokenizer;
    int n = 256;
    mecllm::cli::LoadFlags load;
    SamplerConfig sampler;
  };
  auto a = std::make_shared<Args>();
  app.add_option("-m,--model", a->model, "model file")->required();
  app.add_option("--template", a->tmpl, "chat template family; default: detected from the tokenizer");
  app.add_option("--system", a->system, "system prompt");
  app.add_option("-n,--n-predict", a->n, "tokens per reply at most")->capture_default_str();
  mecllm::cli::add_sampling_flags(app, a->sampler);
  a->load.add_to(app);
  app.add_option("--tokenizer", a->tokenizer, "tokenizer file; default: found from the model");
  app.callback([a] {
    Transformer model = Transformer::load(a->model, a->load.options());
    for (const auto& note : model.notes()) std::cerr << "note: " << note << "\n";
    const auto tok = tokenizer_for_model(model.file(), a->tokenizer);
    std::optional<ChatFamily> family = a->tmpl.empty() ? detect_chat_family(*tok) : parse_chat_family(a->tmpl);
    if (!family) throw mecllm::InputError(fmt::format("{}: no chat template detected; pass --template", a->model));
    GenerateOptions opt;
    opt.max_tokens = a->n;
    opt.sampler = a->sampler;
    ChatSession chat(model, *tok, *family, opt, a->system);
    std::cerr << fmt::format("chat ({} template, context {}); one message per line, /reset, end of input quits\n",
                             chat_family_name(*family), model.context_length());
    std::string line, last_error;
    int turns = 0, failed = 0;
    while (std::cerr << "> " << std::flush, std::getline(std::cin, line)) {
      if (line == "/reset") {
        chat.reset();
        continue;
      }
      ++turns;
      try {
        const GenerateResult r = chat.reply(line, [](std::string_view p) {
          std::cout << p << std::flush;
          return true;
        });
        std::cout << "\n";
        std::cerr << fmt::format("[{} tokens, {:.1f} tok/s, context {}/{}]\n", r.tokens.size(), r.gen_tps(),
                                 chat.position(), model.context_length());
      } catch (const mecllm::InputError& e) {  // e.g. the context is full: say so, keep going
        std::cerr << "error: " << e.what() << " (/reset to start over)\n";
        ++failed, last_error = e.what();
      }
    }
    // A scripted session (stdin from a file) must not look successful when nothing was answered.
    if (turns > 0 && failed == turns)
      throw mecllm::InputError(fmt::format("every one of {} turns failed (last: {})", turns, last_error));
  });
}

}  // namespace

static const mecllm::cli::Registrar reg{"chat", "multi-turn chat with streaming (CPU runtime)", &setup};
