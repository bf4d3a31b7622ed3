#include "runtime/generate.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/clock.h"
#include "common/errors.h"
#include "runtime/gguf.h"

namespace mecllm::runtime {

namespace {
}  // namespace

// ---- stop strings -------------------------------------------------------------------------

StopStrings::StopStrings(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

bool StopStrings::push(std::string_view piece, std::string& emit) {
  pending_.append(piece);
  size_t first = std::string::npos;
  for (const auto& s : stops_) first = std::min(first, pending_.find(s));
  if (first != std::string::npos) {
    emit = pending_.substr(0, first);
    pending_.clear();
    return true;
  }
  // keep the longest tail that is a proper prefix of some stop string
  size_t hold = 0;
  for (const auto& s : stops_) {
    for (size_t k = std::min(s.size() - 1, pending_.size()); k > hold; --k) {
      if (pending_.compare(pending_.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  emit = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return false;
}

std::string StopStrings::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

// ---- generator ----------------------------------------------------------------------------

Generator::Generator(Transformer& model, const Tokenizer& tokenizer, GenerateOptions options)
    : model_(model), tok_(tokenizer), opt_(std::move(options)), sampler_(opt_.sampler) {
  if (opt_.max_tokens < 0) throw InputError(fmt::format("max_tokens = {}, expected >= 0", opt_.max_tokens));
  if (tok_.vocab_size() > model_.config().vocab_size) {
    throw InputError(fmt::format("tokenizer has {} tokens but the model's vocabulary is {}", tok_.vocab_size(),
                                 model_.config().vocab_size));
  }
}

// A model's vocabulary may be padded past its tokenizer's (rows no text maps to); the sampler
// only sees the ids the tokenizer can decode, so generation never emits a token it cannot print.
void Generator::keep_decodable_logits(std::span<const float> logits) {
  logits_.assign(logits.begin(), logits.begin() + std::min<ptrdiff_t>(tok_.vocab_size(), std::ssize(logits)));
  // NaN logits sample as garbage (argmax of NaNs is id 0): a broken checkpoint must say so
  if (!std::all_of(logits_.begin(), logits_.end(), [](float v) { return std::isfinite(v); })) {
    throw InputError(fmt::format("{}: non-finite logits at position {}: the model's weights hold NaN or Inf (a "
                                 "corrupt or diverged checkpoint)", model_.file().path(), pos_));
  }
}

void Generator::reset() {
  pos_ = 0;
  history_.clear();
  logits_.clear();
}

GenerateResult Generator::generate(std::string_view prompt, const StreamFn& stream) {
  const bool bos = opt_.add_bos && pos_ == 0;
  const std::vector<int32_t> ids = tok_.encode(prompt, bos);
  return generate_ids(ids, stream);
}

GenerateResult Generator::generate_ids(std::span<const int32_t> prompt, const StreamFn& stream) {
  GenerateResult r;
  const int ctx = model_.context_length();
  if (static_cast<int64_t>(pos_) + static_cast<int64_t>(prompt.size()) > ctx) {
    throw InputError(fmt::format("prompt is {} tokens but only {} of the context's {} positions are free",
                                 prompt.size(), ctx - pos_, ctx));
  }
  if (prompt.empty() && logits_.empty()) throw InputError("empty prompt: nothing to continue from");

  // prompt processing: one batched forward
  auto t0 = SteadyClock::now();
  if (!prompt.empty()) {
    keep_decodable_logits(model_.forward(prompt, pos_));
    pos_ += static_cast<int>(prompt.size());
    history_.insert(history_.end(), prompt.begin(), prompt.end());
  }
  r.n_prompt = static_cast<int>(prompt.size());
  r.prompt_seconds = seconds_since(t0);

  // generation
  t0 = SteadyClock::now();
  StopStrings stops(opt_.stop);
  std::string emit;
  r.stop_reason = "length";
  for (int i = 0; i < opt_.max_tokens; ++i) {
    const int32_t next = sampler_.sample(logits_, history_);
    if ((opt_.stop_at_eos && next == tok_.eos_id()) ||
        std::find(opt_.stop_ids.begin(), opt_.stop_ids.end(), next) != opt_.stop_ids.end()) {
      r.stop_reason = "eos";
      history_.push_back(next);  // the end-of-turn token belongs to the conversation
      if (pos_ < ctx) {
        model_.forward(next, pos_++);
      } else {
        history_.pop_back();
      }
      break;
    }
    const int32_t prev = history_.empty() ? -1 : history_.back();
    r.tokens.push_back(next);
    const bool stopped = stops.push(tok_.decode_piece(prev, next), emit);
    r.text += emit;
    bool go_on = !emit.empty() && stream ? stream(emit) : true;
    if (stopped) {
      r.stop_reason = "stop";
      break;
    }
    if (!go_on) {
      r.stop_reason = "callback";
      break;
    }
    history_.push_back(next);
    if (pos_ >= ctx) {  // no room to feed the token back
      r.stop_reason = "context";
      break;
    }
    keep_decodable_logits(model_.forward(next, pos_++));
  }
  if (r.stop_reason != "stop") {
    const std::string rest = stops.flush();
    r.text += rest;
    if (!rest.empty() && stream) stream(rest);
  }
  r.gen_seconds = seconds_since(t0);
  return r;
}

GenerateResult Generator::generate_after(std::span<const int32_t> ids, const StreamFn& stream) {
  size_t common = 0;
  while (common < ids.size() && common < history_.size() && ids[common] == history_[common]) ++common;
  if (common == ids.size() && common > 0) --common;  // re-run the last token to get its logits
  history_.resize(common);
  pos_ = static_cast<int>(common);  // later cache rows are overwritten as the new tokens run
  logits_.clear();
  return generate_ids(ids.subspan(common), stream);
}

GenerateResult generate(Transformer& model, const Tokenizer& tokenizer, std::string_view prompt,
                        const GenerateOptions& options, const StreamFn& stream) {
  Generator g(model, tokenizer, options);
  return g.generate(prompt, stream);
}

// ---- tokenizer lookup ---------------------------------------------------------------------

std::unique_ptr<Tokenizer> tokenizer_for_model(const ModelFile& file, const std::string& explicit_path) {
  if (!explicit_path.empty()) return load_tokenizer(explicit_path);
  if (const GgufMetadata* md = file.gguf_metadata(); md != nullptr && md->contains("tokenizer.ggml.tokens")) {
    return tokenizer_from_gguf(*md);
  }
  for (const std::string& f : file.tokenizer_files()) {
    const std::string name = std::filesystem::path(f).filename().string();
    if (name == "tokenizer.json" || name == "tokenizer.model") return load_tokenizer(f);
  }
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(file.path()).parent_path();
  if (file.format() == ModelFormat::llama2c) {
    std::vector<fs::path> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir.empty() ? fs::path(".") : dir, ec)) {
      const std::string n = e.path().filename().string();
      if (e.is_regular_file() && n.ends_with(".bin") && (n == "tokenizer.bin" || n.starts_with("tok"))) {
        found.push_back(e.path());
      }
    }
    std::sort(found.begin(), found.end());
    if (!found.empty()) return load_llama2c_tokenizer(found.front().string(), file.config().vocab_size);
  }
  throw_input_error(file.path(), "no tokenizer found (looked for GGUF tokenizer.ggml.* keys, tokenizer.json / "
                                 "tokenizer.model beside it, or tokenizer.bin / tok*.bin for llama2.c); pass --tokenizer");
}

}  // namespace mecllm::runtime
