// Package clip is CLIP on the engine: the vision transformer and the text
// transformer (Model, New, Config), their preprocessing, the tokenizers,
// the loaders of real checkpoints and a contrastive trainer.
//
// Model.EncodeImage and Model.EncodeText map images and token ids into one
// embedding space; Normalize and the learned logit scale give the
// similarities (Similarity: every image against every text). Both towers are
// differentiable, so Lafite's CLIP loss backpropagates through the image
// tower into the generator.
//
// Tokenizers: BPETokenizer reproduces OpenAI's tokenizer id for id,
// including what ftfy.fix_text does to a text first (FixText: HTML
// references, mojibake repair, quotes, ligatures, full-width forms, NFC);
// WordTokenizer is the word-level vocabulary of the demo's mini-CLIP.
//
// Files: Load reads OpenAI's checkpoints (TorchScript or torch.save
// archives, and safetensors with OpenAI or Hugging Face CLIPModel names;
// the configuration is read off the tensors' shapes), LoadBundle a model
// with its vocabulary, SaveBundle writes one. No real CLIP weights can be
// downloaded where this was written; the loaders are tested on small
// fixtures in those formats (../shared/golden/clip_files).
//
// Train fits a model to (image, caption) pairs with the symmetric
// contrastive loss, as the demo's mini-CLIP is trained; EvaluateRetrieval
// reports its zero-shot accuracy.
package clip
