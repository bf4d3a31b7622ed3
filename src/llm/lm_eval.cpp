// Factworld evaluation of a trained model through TorchLm (no LibTorch header here).
#include <fstream>

#include "common/errors.h"
#include "common/log.h"
#include "llm/torch_lm.h"
#include "llm/train_lm.h"

namespace mecllm::llm {

nlohmann::json evaluate_factworld(const std::string& model_path, const std::string& tokenizer_path,
                                  const std::filesystem::path& factworld_dir, const FactworldEvalOptions& opt) {
  if (!std::filesystem::exists(factworld_dir / "manifest.json"))
    throw_input_error(factworld_dir.string(), "not a factworld directory (no manifest.json)");
  const TorchLm lm = TorchLm::open(model_path, opt.device);
  const auto tok = runtime::load_tokenizer(tokenizer_path.empty() ? model_path : tokenizer_path);
  if (tok->vocab_size() != lm.config().vocab_size)
    throw_input_error(tokenizer_path.empty() ? model_path : tokenizer_path,
                      "tokenizer has {} tokens but the model's vocab_size is {}", tok->vocab_size(),
                      lm.config().vocab_size);
  const AnswerFn answer = make_greedy_answerer(lm, *tok);
  nlohmann::json out;
  std::ofstream answers;
  if (!opt.answers_path.empty()) {
    answers.open(opt.answers_path);
    if (!answers) throw_input_error(opt.answers_path.string(), "cannot write the answers file");
  }
  for (const char* split : {"train", "heldout", "unanswerable"}) {
    const auto items = read_qa_jsonl(factworld_dir / fmt::format("qa_{}.jsonl", split));
    const bool train = std::string(split) == "train";
    const QaReport r =
        evaluate_qa(items, answer, train && opt.max_train_questions > 0 ? opt.max_train_questions : opt.max_questions);
    out["qa"][split] = r.to_json();
    if (answers)
      for (const QaVerdict& v : r.verdicts) answers << v.to_json().dump() << "\n";
    log_info("eval {}: n={} accuracy={:.3f} abstained={:.3f} hallucinated={:.3f}", split, r.all.n, r.all.accuracy(),
             r.all.abstention_rate(), r.all.hallucination_rate());
  }
  out["perplexity"]["heldout_templates"] =
      perplexity(lm, *tok, read_lines(factworld_dir / "text_heldout.txt"), opt.max_perplexity_lines);
  out["perplexity"]["train_bios"] =
      perplexity(lm, *tok, read_lines(factworld_dir / "train_bios.txt"), opt.max_perplexity_lines);
  out["model"] = model_path;
  out["parameters"] = lm.config().parameter_count();
  return out;
}

}  // namespace mecllm::llm
