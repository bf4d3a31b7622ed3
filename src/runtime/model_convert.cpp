#include "runtime/model_convert.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "common/errors.h"
#include "common/log.h"
#include "common/progress.h"
#include "runtime/llama2c.h"
#include "runtime/model_writer.h"
#include "runtime/tokenizer.h"

namespace fs = std::filesystem;

namespace mecllm::runtime {

ModelFormat output_format_for(const std::string& path) {
  if (path.empty()) throw InputError("convert: empty output path");
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".gguf") return ModelFormat::gguf;
  if (ext == ".bin") return ModelFormat::llama2c;
  if (ext == ".safetensors") return ModelFormat::safetensors;
  std::error_code ec;
  if (path.back() == '/' || fs::is_directory(path, ec)) return ModelFormat::hf_dir;
  throw_input_error(path, "cannot tell the output format: expected a name ending in .gguf, .bin (llama2.c), "
                    ".safetensors, or a directory ending in '/' (Hugging Face layout)");
}

namespace {

bool format_holds(ModelFormat f, QuantType t) {
  if (f == ModelFormat::gguf) return true;
  if (f == ModelFormat::llama2c) return t == QuantType::F32;
  return t == QuantType::F32 || t == QuantType::F16 || t == QuantType::BF16;
}

// The finer type to use when `t` does not fit a row of n values.
QuantType fit_type(QuantType t, int64_t n) {
  static constexpr QuantType chain[] = {QuantType::Q4_K, QuantType::Q4_0, QuantType::Q8_0, QuantType::F16};
  bool started = false;
  for (QuantType c : chain) {
    started |= c == t;
    if (started && row_fits(c, n)) return c;
  }
  return row_fits(t, n) ? t : QuantType::F32;
}

}  // namespace

ConvertReport convert_model(const ConvertOptions& opt) {
  ConvertReport report;
  report.output_format = output_format_for(opt.output);
  std::optional<QuantType> requested;
  if (!opt.type.empty()) {
    requested = quant_type_from_name(opt.type);
    if (!requested)
      throw InputError(fmt::format("convert: --type '{}' is not one of f32, f16, bf16, q8_0, q4_0, q4_k", opt.type));
    if (!format_holds(report.output_format, *requested))
      throw_input_error(opt.output, "{} output cannot hold {} tensors (llama2.c: f32; safetensors: f32, f16, bf16)",
                        format_name(report.output_format), opt.type);
  }

  ModelFile in = ModelFile::open(opt.input);
  report.input_format = in.format();
  report.config = in.config();
  report.input_bytes = in.tensor_bytes();
  const bool show_progress = opt.show_progress && report.input_bytes > (64u << 20);  // small models convert instantly

  std::vector<OwnedTensor> owned;
  owned.reserve(in.tensors().size());  // views point into these buffers
  std::vector<TensorView> views;
  std::map<std::string, std::pair<int, std::string>> fallbacks;  // reason -> (count, first tensor)
  Progress progress("convert", static_cast<int64_t>(in.tensors().size()), "tensors");
  for (const TensorView& t : in.tensors()) {
    QuantType want = t.type;
    const bool is_matrix = t.shape.size() >= 2;
    if (!is_matrix) {
      // Norms and biases are tiny and precision-sensitive: F32, except in a float safetensors file.
      want = report.output_format == ModelFormat::safetensors || report.output_format == ModelFormat::hf_dir
                 ? requested.value_or(format_holds(report.output_format, t.type) ? t.type : QuantType::F32)
                 : QuantType::F32;
    } else if (requested) {
      want = *requested;
    } else if (!format_holds(report.output_format, t.type)) {
      want = QuantType::F32;
    }
    if (!row_fits(want, t.shape.back())) {
      QuantType fit = fit_type(want, t.shape.back());
      auto& e = fallbacks[fmt::format("rows of {} values do not fit {} blocks of {}: using {}", t.shape.back(),
                                      quant_type_name(want), traits(want).block_size, quant_type_name(fit))];
      e.first += 1;
      if (e.second.empty()) e.second = t.name;
      want = fit;
      ++report.n_fallback;
    }
    if (want == t.type) {
      views.push_back(t);
    } else {
      owned.push_back(convert_tensor(t, want));
      views.push_back(owned.back().view());
      ++report.n_converted;
    }
    report.output_bytes += views.back().data.size();
    if (show_progress) progress.update(static_cast<int64_t>(views.size()));
  }
  if (show_progress) progress.finish();
  for (const auto& [reason, e] : fallbacks)
    log_warn("convert: {} tensor(s) ({}{}): {}", e.first, e.second, e.first > 1 ? ", ..." : "", reason);
  report.n_tensors = static_cast<int>(views.size());
  double n_weights = 0;
  for (const auto& v : views) n_weights += static_cast<double>(v.n_elements());
  report.output_bits_per_weight = n_weights > 0 ? static_cast<double>(report.output_bytes) * 8.0 / n_weights : 0.0;

  // Tokenizer: an explicit file wins; else the source GGUF's keys or the HF tokenizer files.
  ModelConfig config = in.config();
  switch (report.output_format) {
    case ModelFormat::gguf: {
      GgufMetadata extra;
      if (const GgufMetadata* md = in.gguf_metadata())
        for (const auto& [key, value] : md->entries())
          if (key != "general.alignment") extra.set(key, value);
      std::string source;
      if (!opt.tokenizer.empty()) source = opt.tokenizer;
      else if (!in.gguf_metadata())
        for (const auto& f : in.tokenizer_files())
          if (fs::path(f).filename() == "tokenizer.json" || fs::path(f).filename() == "tokenizer.model") {
            source = f;
            break;
          }
      if (!source.empty()) {
        auto tok = load_tokenizer(source);
        if (tok->vocab_size() != config.vocab_size)
          throw_input_error(source, "tokenizer has {} tokens, the model's vocab_size is {}", tok->vocab_size(),
                            config.vocab_size);
        tokenizer_to_gguf(*tok, extra);
        if (tok->bos_id() >= 0) config.bos_id = tok->bos_id();
        if (tok->eos_id() >= 0) config.eos_id = tok->eos_id();
        report.tokenizer = fmt::format("{} tokenizer from {} ({} tokens) embedded", tok->kind(), source, tok->vocab_size());
      } else if (extra.contains("tokenizer.ggml.model")) {
        report.tokenizer = "tokenizer.ggml.* keys copied from the source GGUF";
      } else {
        report.tokenizer = "none (the source has none; pass --tokenizer FILE to embed one; llama.cpp needs it)";
      }
      if (!extra.contains("general.name"))
        extra.set("general.name", GgufValue::of_string(fs::path(opt.input).filename().replace_extension().string()));
      write_gguf(opt.output, config, views, extra);
      break;
    }
    case ModelFormat::llama2c:
      write_llama2c(opt.output, config, views);
      report.tokenizer = "not stored in llama2.c checkpoints (use a separate tok*.bin)";
      break;
    case ModelFormat::safetensors:
    case ModelFormat::hf_dir: {
      write_safetensors(opt.output, config, views);
      const fs::path dir = report.output_format == ModelFormat::hf_dir
                               ? fs::path(opt.output)
                               : (fs::path(opt.output).parent_path().empty() ? fs::path(".") : fs::path(opt.output).parent_path());
      int copied = 0;
      for (const auto& f : in.tokenizer_files()) {
        std::error_code ec;
        if (fs::equivalent(fs::path(f).parent_path(), dir, ec)) continue;
        fs::copy_file(f, dir / fs::path(f).filename(), fs::copy_options::overwrite_existing, ec);
        if (ec) throw_input_error((dir / fs::path(f).filename()).string(), "cannot copy tokenizer file: {}", ec.message());
        ++copied;
      }
      report.tokenizer = copied > 0 ? fmt::format("{} tokenizer files copied", copied)
                                    : "not carried (safetensors output keeps only Hugging Face tokenizer files)";
      break;
    }
  }
  report.config = config;
  return report;
}

}  // namespace mecllm::runtime
