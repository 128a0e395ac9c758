"""The order of sections in a corpus notebook: the standard layout and the train_on_batch one."""

from __future__ import annotations

from reference.corpus import prose
from reference.corpus import snippets_loop as sl
from reference.corpus import snippets_models as sm
from reference.corpus import snippets_tob as st
from reference.corpus.compose import Builder
from reference.corpus.drivers import drive_tob, record_grid

REIMPORT = ("# 커널 재시작 후 다시 import (모델/함수 정의 셀은 위에서 다시 실행함)\n"
            "import os\nimport glob\nimport time\n\nimport PIL\nimport imageio\n"
            "import numpy as np\nimport tensorflow as tf\nfrom tensorflow.keras import layers\n"
            "from IPython import display\nimport matplotlib.pyplot as plt\n%matplotlib inline")
RESTART_NOTE = "(학습 중에 커널이 죽어서 재시작했다. 필요한 셀만 다시 실행하고 이어서 진행)"


def compose_standard(b: Builder) -> None:
    """Steps 0-7 with the GradientTape loop; improvement runs follow the baseline."""
    spec = b.spec
    run0 = spec.runs[0]
    b.header()
    b.data(run0)
    b.models(run0)
    b.losses(run0)
    b.step5(run0, spec.proj)
    b.train(0)
    if spec.counts == "restart" and not any(r.restore for r in spec.runs):
        b.restart(RESTART_NOTE)
        b.code(REIMPORT)
    if spec.gif != "none":
        b.gif(0)
    if spec.improvement == "not_attempted":
        b.md(prose.STEPS[7] + "\n\n개선해 볼 만한 아이디어:\n" + prose.IDEAS)
    elif spec.improvement == "applied":
        b.md(prose.STEPS[7] + "\n\n" + prose.after_training(
            b.evidence["runs"][0]["fake_last"], b.rng).split("\n", 1)[-1])
        for i in range(1, len(spec.runs)):
            improvement(b, i)
        if spec.compare:
            b.compare(0, len(spec.runs) - 1)
    b.md(prose.retrospective(spec.improvement, b.rng))
    if spec.counts == "out_of_order":
        b.code("# generator.save('generator_final.h5')")
        b.cells[-1].executed = False


def improvement(b: Builder, i: int) -> None:
    """One improvement run: what changed, the changed cells, training, its GIF."""
    spec, run, prev = b.spec, b.spec.runs[i], b.spec.runs[i - 1]
    head, text = prose.CHANGE_TEXT[run.change]
    b.md(f"### 개선 {i}. {head}\n\n{text}")
    if run.restore:
        if spec.counts == "restart":
            b.restart(RESTART_NOTE)
            b.code(REIMPORT)
        b.code("checkpoint.restore(tf.train.latest_checkpoint(checkpoint_dir))")
        if b._loop(prev) != b._loop(run):  # the epoch-log loop passes show=
            b.code(sl.gen_images_cell(spec.display, b._proj(i), show_param=True))
        b.train(i, headers=False)
        if spec.gif != "none":
            b.gif(i)
        return
    b.code("!mkdir -p ~/aiffel/dcgan_newimage/cifar10_v2/generated_samples\n"
           "!mkdir -p ~/aiffel/dcgan_newimage/cifar10_v2/training_checkpoints\n"
           "!mkdir -p ~/aiffel/dcgan_newimage/cifar10_v2/training_history")
    if run.batch != prev.batch:
        b.code(f"BATCH_SIZE = {run.batch}\ntrain_dataset = tf.data.Dataset.from_tensor_slices("
               "train_x).shuffle(BUFFER_SIZE).batch(BATCH_SIZE)")
    if run.model != prev.model:
        b.models(run, headers=False)
    else:
        mc = sm.MODELS[run.model]
        b.code(f"# 처음부터 다시 학습\ngenerator = {mc.gen_fn}()\n"
               f"discriminator = {mc.disc_fn}()")
    if (run.smoothing, run.from_logits) != (prev.smoothing, prev.from_logits):
        b.code(sm.losses_cell(run.from_logits, run.smoothing))
    b.code(sm.optimizers_cell(run.lr, run.beta_1))
    b.step5(run, "cifar10_v2", headers=False)
    b.train(i, headers=False)
    if spec.gif != "none":
        b.gif(i)


def compose_tob(b: Builder) -> None:
    """The train_on_batch notebook: compiled models, a combined gan, an iteration loop."""
    spec, ctx = b.spec, b.contexts[0]
    iterations, interval = ctx.epochs * ctx.per_epoch, ctx.per_epoch
    b.md(prose.title(spec.author, b.rng))
    b.md(prose.step(0, b.rng))
    b.code("\n".join(f"!mkdir -p ~/aiffel/dcgan_newimage/cifar10/{d}" for d in
                     ("generated_samples", "training_checkpoints", "training_history")))
    b.code(st.IMPORTS)
    b.md(prose.step(1, b.rng) + "\n\n수업 자료 2의 train_on_batch 방식으로 구현해 봤다.")
    b.code(st.DATA, run="X_train = (_CIFAR.astype('float32') - 127.5) / 127.5\n"
                        "print('(50000, 32, 32, 3)', X_train.min(), X_train.max())")
    b.md("데이터 확인")
    b.code("plt.figure(figsize=(8, 8))\nfor i in range(25):\n    plt.subplot(5, 5, i + 1)\n"
           "    plt.imshow((X_train[i] + 1) / 2)\n    plt.axis('off')\nplt.show()")
    b.md("하이퍼파라미터")
    b.code(st.settings_cell(iterations, interval))
    b.md(prose.step(2, b.rng))
    b.code(sm.G_TOB)
    b.md("학습 전 생성자가 만드는 이미지 (노이즈)")
    b.code("noise = np.random.normal(0, 1, (1, MY_NOISE))\ngenerated_image = generator.predict("
           "noise, verbose=0)\ngenerated_image.shape")
    b.code("plt.imshow(generated_image[0, :, :, 0])\nplt.colorbar()\nplt.show()")
    b.md(prose.step(3, b.rng))
    b.code(sm.D_TOB)
    b.code("decision = discriminator.predict(generated_image, verbose=0)\ndecision")
    b.md("### 생성자 + 판별자 연결 (gan 모델)\n판별자를 trainable=False로 두고 연결해서, "
         "gan.train_on_batch를 하면 생성자만 학습되도록 한다.")
    b.code(sm.GAN_TOB)
    b.md(prose.step(5, b.rng))
    b.md("샘플 이미지 저장 함수 (4x4)")
    b.code(st.sample_cell(spec.display))
    b.md("판별자 / 생성자 한 번씩 학습하는 함수와 전체 학습 함수")
    b.code(st.TRAIN)
    b.md(prose.step(6, b.rng))
    minutes = ctx.epochs * ctx.seconds_per_epoch
    b.code("%%time\ngan_train()", driver=lambda k: drive_tob(k, ctx, iterations, interval),
           time_text=f"CPU times: user {int(minutes * 1.2 // 60)}min 12s, sys: 41.3 s, total: "
                     f"{int(minutes * 1.2 // 60)}min 53s\nWall time: {int(minutes // 60)}min 8s\n")
    b.md("### 학습 그래프")
    b.code(st.PLOT)
    b.code("print('마지막 1 epoch 평균 fake accuracy: {:.3f}'.format(np.mean(fake_acc_hist[-MY_INTERVAL:])))\n"
           "print('마지막 1 epoch 평균 real accuracy: {:.3f}'.format(np.mean(real_acc_hist[-MY_INTERVAL:])))")
    b.evidence["runs"].append(_tob_evidence(b))
    ev = b.evidence["runs"][-1]
    b.md(prose.after_training(ev["fake_last"], b.rng, ev["fake_first"]))
    b.md("학습 중간중간 저장된 샘플")
    b.code("files = sorted(glob.glob(os.path.join(MY_FOLDER, 'img-*.png')))\n"
           "picks = [files[k] for k in np.linspace(0, len(files) - 1, 4).astype(int)]\n"
           "plt.figure(figsize=(16, 4))\nfor k, f in enumerate(picks):\n"
           "    plt.subplot(1, 4, k + 1)\n    plt.imshow(PIL.Image.open(f))\n"
           "    plt.title(os.path.basename(f))\n    plt.axis('off')\nplt.show()")
    b.md("마지막으로 저장된 샘플 이미지")
    b.code(f"img = PIL.Image.open(os.path.join(MY_FOLDER, 'img-{iterations:05d}.png'))\n"
           "plt.figure(figsize=(6, 6))\nplt.imshow(img)\nplt.axis('off')\nplt.show()")
    record_grid(ctx, ctx.frames[-1], "saved_png")
    b.md(prose.gif_note(b.rng))
    b.code("# 저장된 샘플 이미지를 모두 이어서 gif로\nanim_file = os.getenv('HOME') + "
           "'/aiffel/dcgan_newimage/cifar10/cifar10_dcgan.gif'\nfilenames = sorted(glob.glob("
           "os.path.join(MY_FOLDER, 'img-*.png')))\nframes = [imageio.imread(f) for f in "
           "filenames]\nimageio.mimsave(anim_file, frames, duration=0.3)\n"
           "print(len(frames), 'frames ->', anim_file)")
    if spec.gif == "shown":
        b.code("from IPython.display import Image\nImage(filename=anim_file)")
    b.evidence["gifs"].append({"run": 0, "file": "cifar10/cifar10_dcgan.gif", "mode": spec.gif})
    b.md("### 참고\n- [ganhacks](https://github.com/soumith/ganhacks)\n"
         "- 수업 자료 2 (train_on_batch로 GAN 학습하기)")
    b.md(prose.retrospective(spec.improvement, b.rng))


def _tob_evidence(b: Builder) -> dict:
    from reference.corpus.histories import trend

    ctx = b.contexts[0]
    series = ctx.history["fake_accuracy"][: ctx.epochs * ctx.per_epoch]
    first, last = trend(series)
    return {"run": 0, "grids": ctx.record.setdefault("grids", []),
            "files": ctx.record.setdefault("files", {}),
            "history_kind": ctx.record.get("history_kind"), "plot": "tob",
            "curve_shown": True, "curve_in_notebook": True, "fake_first": first,
            "fake_last": last, "change": "", "checkpoint": None, "final": b.spec.runs[0].final,
            "used": ctx.used}
