//! The `native` provider: all-MiniLM-L6-v2 run in-process on the CPU with candle.
//!
//! What sentence-transformers does for this model, step for step: WordPiece tokenisation with
//! truncation to 256 tokens and padding to the longest text of the batch, a BERT forward pass
//! in f32, mean pooling over the attention mask, L2 normalisation. Files are checked against
//! the [`models::ALL_MINILM_L6_V2`] manifest before anything is parsed, and the weights that
//! were hashed are the very bytes handed to candle.
//!
//! Threading: [`NativeEmbedder::load`] blocks (it reads and hashes ~90 MB); every
//! [`Embedder::embed`] call runs tokenisation and inference on tokio's blocking pool, at most
//! [`BATCH_SIZE`] texts per forward pass. The embedder is cheap to share behind an `Arc`.

use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::models::{self, ModelSpec};
use super::{BoxFuture, EmbedError, Embedder};

/// Texts per forward pass: big enough to amortise the pass, small enough that a batch of long
/// texts (32 × 256 tokens) stays within a few hundred MB of activations.
pub const BATCH_SIZE: usize = 32;

/// An in-process sentence embedder over a verified all-MiniLM-L6-v2 install.
#[derive(Clone)]
pub struct NativeEmbedder {
    inner: Arc<Loaded>,
}

/// The parsed model, shared by the async front and the blocking workers.
struct Loaded {
    /// The manifest the files were verified against (name, dimensions).
    spec: ModelSpec,
    /// BERT weights, on `device`.
    model: BertModel,
    /// Configured to truncate at `spec.max_seq_length` and pad to the batch's longest text.
    tokenizer: Tokenizer,
    /// Always the CPU: the daemon must run anywhere, and this model is small.
    device: Device,
}

impl std::fmt::Debug for NativeEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeEmbedder")
            .field("model", &self.inner.spec.name)
            .finish_non_exhaustive()
    }
}

impl NativeEmbedder {
    /// Loads the model from `dir` (`$WORKSPACE/.models/all-MiniLM-L6-v2`, see
    /// [`ModelSpec::install_dir`]) after checking every file's size and sha256 against the
    /// manifest. A missing or mismatching file is [`EmbedError::Model`] naming the file, what
    /// was expected and found, and how to repair the install. Blocks: call it from a blocking
    /// thread.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let spec = models::ALL_MINILM_L6_V2;
        let read = |name: &str| read_verified(&spec, dir, name);
        let config: Config = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| EmbedError::Model(format!("{}: bad config.json: {e}", dir.display())))?;
        let mut tokenizer = Tokenizer::from_bytes(read("tokenizer.json")?).map_err(|e| {
            EmbedError::Model(format!("{}: bad tokenizer.json: {e}", dir.display()))
        })?;
        configure(&mut tokenizer, spec.max_seq_length)?;
        let device = Device::Cpu;
        // The buffer is dropped once the weights are copied into tensors.
        let weights =
            VarBuilder::from_buffered_safetensors(read("model.safetensors")?, DType::F32, &device)
                .map_err(|e| {
                    EmbedError::Model(format!("{}: bad model.safetensors: {e}", dir.display()))
                })?;
        let model = BertModel::load(weights, &config)
            .map_err(|e| EmbedError::Model(format!("{}: cannot build BERT: {e}", dir.display())))?;
        let loaded = Loaded {
            spec,
            model,
            tokenizer,
            device,
        };
        Ok(Self {
            inner: Arc::new(loaded),
        })
    }

    /// Embeds `texts` on the calling thread (blocking). [`Embedder::embed`] is the async form.
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // Batch texts of similar length together (as sentence-transformers does) so a long
        // text does not pad a whole batch of short ones; answers go back in input order.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(texts[i].len()));
        let mut out = vec![Vec::new(); texts.len()];
        for batch in order.chunks(BATCH_SIZE) {
            let batch_texts: Vec<String> = batch.iter().map(|&i| texts[i].clone()).collect();
            for (&i, vector) in batch.iter().zip(self.inner.forward(batch_texts)?) {
                out[i] = vector;
            }
        }
        Ok(out)
    }
}

impl Embedder for NativeEmbedder {
    fn provider(&self) -> &str {
        "native"
    }

    fn model(&self) -> &str {
        self.inner.spec.name
    }

    fn dimensions(&self) -> usize {
        self.inner.spec.dimensions
    }

    fn embed<'a>(
        &'a self,
        texts: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Vec<f32>>, EmbedError>> {
        let this = self.clone();
        let texts = texts.to_vec();
        Box::pin(async move {
            if texts.is_empty() {
                return Ok(Vec::new());
            }
            tokio::task::spawn_blocking(move || this.embed_blocking(&texts))
                .await
                .map_err(|e| EmbedError::Model(format!("embedding task failed: {e}")))?
        })
    }
}

impl Loaded {
    /// One forward pass over at most [`BATCH_SIZE`] texts: `[n, 384]` unit vectors.
    fn forward(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts, true)
            .map_err(|e| EmbedError::Model(format!("tokenisation failed: {e}")))?;
        self.infer(&encodings)
            .map_err(|e| EmbedError::Model(format!("inference failed: {e}")))
    }

    fn infer(&self, encodings: &[tokenizers::Encoding]) -> candle_core::Result<Vec<Vec<f32>>> {
        // Padding makes every encoding of the batch the same length.
        let (rows, cols) = (encodings.len(), encodings.first().map_or(0, |e| e.len()));
        let tensor = |field: fn(&tokenizers::Encoding) -> &[u32]| {
            let flat: Vec<u32> = encodings
                .iter()
                .flat_map(|e| field(e).iter().copied())
                .collect();
            Tensor::from_vec(flat, (rows, cols), &self.device)
        };
        let ids = tensor(tokenizers::Encoding::get_ids)?;
        let type_ids = tensor(tokenizers::Encoding::get_type_ids)?;
        let mask = tensor(tokenizers::Encoding::get_attention_mask)?;
        let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?;
        mean_pool_normalised(&hidden, &mask)
    }
}

/// Mean of `hidden` (`[n, len, d]`) over the positions where `mask` (`[n, len]`) is 1, then
/// each row divided by its L2 norm (as torch's `F.normalize`, with its 1e-12 floor).
fn mean_pool_normalised(hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Vec<Vec<f32>>> {
    let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
    let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?;
    let mean = summed.broadcast_div(&counts)?;
    let norms = mean
        .sqr()?
        .sum_keepdim(1)?
        .sqrt()?
        .clamp(1e-12f32, f32::MAX)?;
    mean.broadcast_div(&norms)?.to_vec2::<f32>()
}

/// Sets sentence-transformers' truncation (the shipped tokenizer.json says 128) and batch
/// padding (it says fixed 128).
fn configure(tokenizer: &mut Tokenizer, max_len: usize) -> Result<(), EmbedError> {
    let truncation = TruncationParams {
        max_length: max_len,
        ..TruncationParams::default()
    };
    tokenizer
        .with_truncation(Some(truncation))
        .map_err(|e| EmbedError::Model(format!("tokenizer truncation: {e}")))?;
    let pad_id = tokenizer.token_to_id("[PAD]").unwrap_or(0);
    tokenizer.with_padding(Some(PaddingParams {
        strategy: PaddingStrategy::BatchLongest,
        pad_id,
        ..PaddingParams::default()
    }));
    Ok(())
}

/// Reads `dir/name` and checks it against the manifest, so what is parsed is what was hashed.
fn read_verified(spec: &ModelSpec, dir: &Path, name: &str) -> Result<Vec<u8>, EmbedError> {
    let file = spec
        .file(name)
        .ok_or_else(|| EmbedError::Model(format!("{name} is not part of model {}", spec.name)))?;
    let path = dir.join(name);
    // Size first: a truncated 90 MB file fails without being read.
    models::verify_size(spec, file, &path)?;
    let bytes =
        std::fs::read(&path).map_err(|e| EmbedError::Model(format!("{}: {e}", path.display())))?;
    models::verify_bytes(spec, file, &path, &bytes)?;
    Ok(bytes)
}
