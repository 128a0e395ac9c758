"""Student code for training, sample grids, history plots, checkpoints and the GIF.

Templates carry ``@PROJ@`` (the project folder under ``~/aiffel/dcgan_newimage``: ``cifar10``
or a leftover ``fashion``); :func:`fill` substitutes it. The strings a training loop prints are
module constants shared by the template and by the driver that stands in for training, so the
printed lines have exactly the student's format.
"""

from __future__ import annotations

TRAIN_STEP = '''\
@tf.function
def train_step(images):
    noise = tf.random.normal([BATCH_SIZE, noise_dim])

    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
        generated_images = generator(noise, training=True)

        real_output = discriminator(images, training=True)
        fake_output = discriminator(generated_images, training=True)

        gen_loss = generator_loss(fake_output)
        disc_loss = discriminator_loss(real_output, fake_output)

        real_accuracy, fake_accuracy = discriminator_accuracy(real_output, fake_output)

    gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
    gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)

    generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
    discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))

    return gen_loss, disc_loss, real_accuracy, fake_accuracy'''

IMSHOW = {
    "gray_ch0": "plt.imshow(predictions[i, :, :, 0], cmap='gray')",
    "viridis_ch0": "plt.imshow(predictions[i, :, :, 0])",
    "clip": "plt.imshow(predictions[i, :, :, :])",
    "uint8_wrap": "plt.imshow((predictions[i].numpy() * 255).astype('uint8'))",
    "correct": "plt.imshow((predictions[i, :, :, :] + 1) / 2)  # -1~1 -> 0~1",
    "correct_uint8": "plt.imshow((predictions[i].numpy() * 127.5 + 127.5).astype('uint8'))",
}
"""How the grid shows one generated image, by display mode."""

SAMPLE_PATH = ("'{}/aiffel/dcgan_newimage/@PROJ@/generated_samples/sample_epoch_{:04d}_iter_{:03d}.png'"
               "\n                    .format(os.getenv('HOME'), epoch, it)")

GEN_IMAGES = '''\
def generate_and_save_images(model, epoch, it, sample_seeds):

    predictions = model(sample_seeds, training=False)

    fig = plt.figure(figsize=(4, 4))
    for i in range(predictions.shape[0]):
        plt.subplot(4, 4, i+1)
        @IMSHOW@
        plt.axis('off')

    plt.savefig(@PATH@)

    plt.show()'''

GEN_IMAGES_SHOW = '''\
def generate_and_save_images(model, epoch, it, sample_seeds, show=True):
    predictions = model(sample_seeds, training=False)

    fig = plt.figure(figsize=(5, 5))
    for i in range(predictions.shape[0]):
        plt.subplot(4, 4, i + 1)
        @IMSHOW@
        plt.axis('off')
    plt.suptitle('epoch {}'.format(epoch))
    plt.savefig(@PATH@)
    if show:
        plt.show()
    else:
        plt.close(fig)   # 저장만 하고 화면에는 안 띄움'''


def gen_images_cell(display: str, proj: str, show_param: bool = False) -> str:
    """``generate_and_save_images`` with a display mode (a key of :data:`IMSHOW`)."""
    text = GEN_IMAGES_SHOW if show_param else GEN_IMAGES
    return fill(text.replace("@IMSHOW@", IMSHOW[display]).replace("@PATH@", SAMPLE_PATH), proj)


HIST_SAVE = ("plt.savefig('{}/aiffel/dcgan_newimage/@PROJ@/training_history/train_history_{:04d}.png'"
             "\n                    .format(os.getenv('HOME'), epoch))")

HISTORY = {
    "lesson": '''\
from matplotlib.pylab import rcParams
rcParams['figure.figsize'] = 15, 6    # 그래프 크기

def draw_train_history(history, epoch):
    # loss
    plt.subplot(211)
    plt.plot(history['gen_loss'])
    plt.plot(history['disc_loss'])
    plt.title('model loss')
    plt.ylabel('loss')
    plt.xlabel('batch iters')
    plt.legend(['gen_loss', 'disc_loss'], loc='upper left')

    # accuracy
    plt.subplot(212)
    plt.plot(history['fake_accuracy'])
    plt.plot(history['real_accuracy'])
    plt.title('discriminator accuracy')
    plt.ylabel('accuracy')
    plt.xlabel('batch iters')
    plt.legend(['fake_accuracy', 'real_accuracy'], loc='upper left')

    @SAVE@
    plt.show()''',
    "four_lines": '''\
def draw_train_history(history, epoch):
    # 한 그래프에 네 개를 다 그려서 한눈에 보기
    plt.figure(figsize=(14, 5))
    for key in ['gen_loss', 'disc_loss', 'real_accuracy', 'fake_accuracy']:
        plt.plot(history[key], label=key, linewidth=0.6)
    plt.axhline(0.5, color='gray', linestyle='--', linewidth=1)
    plt.title('training history (epoch {})'.format(epoch + 1))
    plt.xlabel('batch iters')
    plt.ylim(0, 4)
    plt.legend(loc='upper right')
    @SAVE@
    plt.show()''',
    "per_epoch": '''\
def draw_train_history(history, epoch):
    # 배치마다 그리면 너무 지저분해서 epoch 평균으로 그림
    steps = len(history['gen_loss']) // (epoch + 1)
    mean = {k: [np.mean(v[i * steps:(i + 1) * steps]) for i in range(epoch + 1)]
            for k, v in history.items()}
    x = np.arange(1, epoch + 2)

    plt.figure(figsize=(12, 8))
    plt.subplot(211)
    plt.plot(x, mean['gen_loss'], 'o-', label='gen_loss')
    plt.plot(x, mean['disc_loss'], 'o-', label='disc_loss')
    plt.title('loss (epoch mean)')
    plt.xlabel('epoch')
    plt.legend()

    plt.subplot(212)
    plt.plot(x, mean['fake_accuracy'], 'o-', label='fake_accuracy')
    plt.plot(x, mean['real_accuracy'], 'o-', label='real_accuracy')
    plt.axhline(0.5, color='k', linestyle=':')
    plt.title('discriminator accuracy (epoch mean)')
    plt.xlabel('epoch')
    plt.ylim(0, 1.05)
    plt.legend()
    plt.tight_layout()
    @SAVE@
    plt.show()''',
    "seaborn": '''\
plt.style.use('seaborn-v0_8-darkgrid')

def draw_train_history(history, epoch):
    fig, axes = plt.subplots(2, 1, figsize=(15, 7), sharex=True)
    axes[0].plot(history['gen_loss'], label='gen_loss', alpha=0.8)
    axes[0].plot(history['disc_loss'], label='disc_loss', alpha=0.8)
    axes[0].set_title('model loss')
    axes[0].legend(loc='upper left')
    axes[1].plot(history['fake_accuracy'], label='fake_accuracy', alpha=0.8)
    axes[1].plot(history['real_accuracy'], label='real_accuracy', alpha=0.8)
    axes[1].set_title('discriminator accuracy')
    axes[1].set_xlabel('batch iters')
    axes[1].legend(loc='upper left')
    fig.tight_layout()
    @SAVE@
    plt.show()''',
    "korean": '''\
plt.rc('font', family='NanumBarunGothic')   # 한글 폰트

def draw_train_history(history, epoch):
    plt.figure(figsize=(15, 6))
    plt.subplot(121)
    plt.plot(history['gen_loss'], label='생성자 loss')
    plt.plot(history['disc_loss'], label='판별자 loss')
    plt.title('손실 함수 변화')
    plt.xlabel('반복 횟수')
    plt.legend()

    plt.subplot(122)
    plt.plot(history['fake_accuracy'], label='가짜 정확도')
    plt.plot(history['real_accuracy'], label='진짜 정확도')
    plt.title('판별자 정확도 변화')
    plt.xlabel('반복 횟수')
    plt.legend()
    @SAVE@
    plt.show()''',
}
"""``draw_train_history`` variants by key."""


def history_cell(kind: str, proj: str) -> str:
    """The history-plot function cell of variant ``kind``."""
    return fill(HISTORY[kind].replace("@SAVE@", HIST_SAVE), proj)


CHECKPOINT = '''\
checkpoint_dir = os.getenv('HOME')+'/aiffel/dcgan_newimage/@PROJ@/training_checkpoints'

checkpoint_prefix = os.path.join(checkpoint_dir, "ckpt")
checkpoint = tf.train.Checkpoint(generator_optimizer=generator_optimizer,
                                 discriminator_optimizer=discriminator_optimizer,
                                 generator=generator,
                                 discriminator=discriminator)'''

ITER_LINES = ("'Epoch {} | iter {}'.format(epoch+1, it+1)",
              "'Time for epoch {} : {} sec'.format(epoch+1, int(time.time()-epoch_start))")
TRAIN_LESSON = '''\
def train(dataset, epochs, save_every):
    start = time.time()
    history = {'gen_loss':[], 'disc_loss':[], 'real_accuracy':[], 'fake_accuracy':[]}

    for epoch in range(epochs):
        epoch_start = time.time()
        for it, image_batch in enumerate(dataset):
            gen_loss, disc_loss, real_accuracy, fake_accuracy = train_step(image_batch)
            history['gen_loss'].append(gen_loss)
            history['disc_loss'].append(disc_loss)
            history['real_accuracy'].append(real_accuracy)
            history['fake_accuracy'].append(fake_accuracy)

            if it % 50 == 0:
                display.clear_output(wait=True)
                generate_and_save_images(generator, epoch+1, it+1, seed)
                print('Epoch {} | iter {}'.format(epoch+1, it+1))
                print('Time for epoch {} : {} sec'.format(epoch+1, int(time.time()-epoch_start)))

        if (epoch + 1) % save_every == 0:
            checkpoint.save(file_prefix=checkpoint_prefix)

        display.clear_output(wait=True)
        generate_and_save_images(generator, epochs, it, seed)
        print('Time for training : {} sec'.format(int(time.time()-start)))

        draw_train_history(history, epoch)'''

EPOCH_LINE = ("Epoch {:3d}/{} | gen_loss {:.4f} | disc_loss {:.4f} | real_acc {:.3f} | "
              "fake_acc {:.3f} | {:.0f} sec")
TRAIN_EPOCH_LOG = '''\
def train(dataset, epochs, save_every, start_epoch=0):
    # start_epoch: 체크포인트에서 이어서 학습할 때 epoch 번호를 이어 붙이기 위한 값
    start = time.time()
    history = {'gen_loss': [], 'disc_loss': [], 'real_accuracy': [], 'fake_accuracy': []}

    for epoch in range(epochs):
        epoch_start = time.time()
        for it, image_batch in enumerate(dataset):
            gen_loss, disc_loss, real_accuracy, fake_accuracy = train_step(image_batch)
            history['gen_loss'].append(float(gen_loss))
            history['disc_loss'].append(float(disc_loss))
            history['real_accuracy'].append(float(real_accuracy))
            history['fake_accuracy'].append(float(fake_accuracy))

        # 한 epoch 끝날 때마다 평균값 출력 (clear_output은 안 씀)
        n = it + 1
        print('@LINE@'.format(
            start_epoch + epoch + 1, start_epoch + epochs, np.mean(history['gen_loss'][-n:]), np.mean(history['disc_loss'][-n:]),
            np.mean(history['real_accuracy'][-n:]), np.mean(history['fake_accuracy'][-n:]),
            time.time() - epoch_start))

        if (epoch + 1) % 5 == 0 or epoch + 1 == epochs:   # 5 epoch마다 저장, 10 epoch마다(+마지막) 표시
            generate_and_save_images(generator, start_epoch + epoch + 1, it + 1, seed,
                                     show=(epoch + 1) % 10 == 0 or epoch + 1 == epochs)

        if (epoch + 1) % save_every == 0:
            checkpoint.save(file_prefix=checkpoint_prefix)

    print('Time for training : {} sec'.format(int(time.time() - start)))
    return history'''.replace("@LINE@", EPOCH_LINE)

GIF = '''\
anim_file = os.getenv('HOME')+'/aiffel/dcgan_newimage/@PROJ@/@GIFNAME@'

with imageio.get_writer(anim_file, mode='I') as writer:
    filenames = glob.glob('{}/aiffel/dcgan_newimage/@PROJ@/generated_samples/@PATTERN@'.format(os.getenv('HOME')))
    filenames = sorted(filenames)
    last = -1
    for i, filename in enumerate(filenames):
        frame = 2*(i**0.5)
        if round(frame) > round(last):
            last = frame
        else:
            continue
        image = imageio.imread(filename)
        writer.append_data(image)
    image = imageio.imread(filename)
    writer.append_data(image)

!ls -l ~/aiffel/dcgan_newimage/@PROJ@/@GIFNAME@'''

GIF_SIMPLE = '''\
# 저장된 샘플 이미지를 모두 이어서 gif로
anim_file = os.getenv('HOME') + '/aiffel/dcgan_newimage/@PROJ@/@GIFNAME@'
filenames = sorted(glob.glob(os.getenv('HOME') + '/aiffel/dcgan_newimage/@PROJ@/generated_samples/@PATTERN@'))
frames = [imageio.imread(f) for f in filenames]
imageio.mimsave(anim_file, frames, duration=0.3)
print(len(frames), 'frames ->', anim_file)'''


def gif_cell(proj: str, name: str, pattern: str = "sample*.png", simple: bool = False) -> str:
    """The GIF cell (the lesson's frame-thinning loop, or every frame with ``mimsave``)."""
    text = GIF_SIMPLE if simple else GIF
    return fill(text.replace("@GIFNAME@", name).replace("@PATTERN@", pattern), proj)


SHOW_GIF = "display.Image(filename=anim_file)"

SAMPLE_GALLERY = '''\
# 저장해 둔 샘플 중 몇 개를 골라서 학습이 진행되는 모습 확인
files = sorted(glob.glob(os.getenv('HOME') + '/aiffel/dcgan_newimage/@PROJ@/generated_samples/*.png'))
picks = [files[k] for k in np.linspace(0, len(files) - 1, 4).astype(int)]
plt.figure(figsize=(16, 4))
for k, f in enumerate(picks):
    plt.subplot(1, 4, k + 1)
    plt.imshow(PIL.Image.open(f))
    plt.title(os.path.basename(f), fontsize=9)
    plt.axis('off')
plt.show()'''

COMPARE = '''\
before = PIL.Image.open(@BEFORE@)
after = PIL.Image.open(@AFTER@)

plt.figure(figsize=(10, 5))
plt.subplot(1, 2, 1)
plt.imshow(before)
plt.title(@T1@)
plt.axis('off')
plt.subplot(1, 2, 2)
plt.imshow(after)
plt.title(@T2@)
plt.axis('off')
plt.show()'''


def compare_cell(before: str, after: str, korean: bool) -> str:
    """Before/after grids side by side, read back from the saved PNGs (path expressions)."""
    t1, t2 = ("'개선 전'", "'개선 후'") if korean else ("'before'", "'after'")
    return (COMPARE.replace("@BEFORE@", before).replace("@AFTER@", after)
            .replace("@T1@", t1).replace("@T2@", t2))


SHOW_SAVED = '''\
img = PIL.Image.open(@PATH@)
plt.figure(figsize=(6, 6))
plt.imshow(img)
plt.axis('off')
plt.show()'''


def fill(text: str, proj: str) -> str:
    """Substitute the project folder."""
    return text.replace("@PROJ@", proj)
