// Package lafite is Lafite (Zhou et al., CVPR 2022): text-to-image
// generation trained on images alone, on the engine's tensor, autograd and
// nn packages.
//
// The generator is StyleGAN2 with a conditional StyleSpace: every
// modulated layer takes its style from the mapped latent w and a CLIP
// feature h' through a branch of its own (TextStyles). Because CLIP embeds
// images and texts in one space, training needs no captions: a perturbed
// CLIP image feature of the real image stands in for the missing one
// (PerturbFixed, or Lafite-NN's TrainablePerturbation; Conditions mixes in
// real caption features when a dataset has some). At inference a CLIP text
// feature drives the generator (Generate, MixConditions).
//
// The discriminator scores realism plus ⟨h', f_s(x)⟩, f_s its own semantic
// features of the image. The losses (GeneratorLoss, DiscriminatorLoss) add
// contrastive terms that pull CLIP(G(z, h')) and f_s(x) towards h'; R1
// (R1Penalty) and path-length regularisation (PathLength) differentiate
// gradients, which autograd provides. Trainer runs the reference's four
// phases (Gmain, Greg, Dmain, Dreg) with lazy regularisation, Adam and an
// exponential moving average of G, on the CPU or a GPU, reading the losses
// once per step; a step whose losses are not finite is a DivergedError.
//
// Files: a training checkpoint (Trainer.Save, LoadCheckpoint) holds the
// whole state, so a resumed run continues bit for bit; SaveGenerator and
// LoadGenerator keep the EMA generator alone; ImportGenerator reads the
// reference's network pickles and state dicts; BuildDataset and
// LoadDataset make and read a dataset of images (kept as bytes, ImageBytes)
// with precomputed CLIP features, reading a folder or zip one image at a
// time (OpenImages, OpenCLIP); Evaluate scores a generator against a
// dataset in CLIP space. Every loader refuses a file whose
// metadata describes a model its tensors cannot fill before allocating it.
//
// The names of parameters and losses are the reference's wherever it has
// them, so its checkpoints load and ../shared/golden's cases compare
// tensor by tensor.
package lafite
