"""Student code for the models, losses, accuracy and optimizers (the variants students write).

Each generator/discriminator variant is the source of one notebook cell; the ``family`` of a
variant says which saved snapshots have exactly its weights (``ref``: the reference DCGAN of
``reference/solution.py``; ``alice``: the lesson's model adapted to 32x32x3; ``wide``), so a
checkpoint can be written with real trained weights. ``None``: no snapshot matches.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelCode:
    """The cell(s) defining a generator and a discriminator."""

    generator: str
    discriminator: str
    family: str | None
    """Snapshot family whose weights fit these models exactly (None: none do)."""
    gen_fn: str = "make_generator_model"
    disc_fn: str = "make_discriminator_model"
    out_shape: tuple[int, int, int] = (32, 32, 3)


G_LESSON = '''\
def make_generator_model():

    # 시작: Sequential 모델
    model = tf.keras.Sequential()

    # Dense - 32x32 이미지를 만들기 위해 8x8에서 시작 (노드는 7x7)
    model.add(layers.Dense(8*8*256, use_bias=False, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Reshape((8, 8, 256)))

    # (8, 8, 256) -> (8, 8, 128)
    model.add(layers.Conv2DTranspose(128, kernel_size=(5, 5), strides=(1, 1), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    # (8, 8, 128) -> (16, 16, 64)
    model.add(layers.Conv2DTranspose(64, kernel_size=(5, 5), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    # (16, 16, 64) -> (32, 32, 3) : 컬러 이미지라서 채널을 3으로 바꿈
    model.add(layers.Conv2DTranspose(3, kernel_size=(5, 5), strides=(2, 2), padding='same', use_bias=False,
                                     activation='tanh'))

    return model'''

D_LESSON = '''\
def make_discriminator_model():

    model = tf.keras.Sequential()

    # (32, 32, 3) -> (16, 16, 64)
    model.add(layers.Conv2D(64, (5, 5), strides=(2, 2), padding='same', input_shape=[32, 32, 3]))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    # (16, 16, 64) -> (8, 8, 128)
    model.add(layers.Conv2D(128, (5, 5), strides=(2, 2), padding='same'))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Flatten())
    model.add(layers.Dense(1))

    return model'''


def g_ref(alpha_kw: bool = False, width: int = 256) -> str:
    """The reference DCGAN generator written with ``model.add`` (``width`` 384: the wide one)."""
    lr = "layers.LeakyReLU(alpha=0.2)" if alpha_kw else "layers.LeakyReLU(0.2)"
    w1, w2, w3 = width, width // 2, width // 4
    return f'''\
def make_generator_model():
    # DCGAN 논문처럼 4x4에서 시작해서 stride 2로 세 번 키운다 (4 -> 8 -> 16 -> 32)
    model = tf.keras.Sequential()
    model.add(layers.Dense(4*4*{w1}, use_bias=False, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add({lr})
    model.add(layers.Reshape((4, 4, {w1})))

    model.add(layers.Conv2DTranspose({w2}, (4, 4), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add({lr})

    model.add(layers.Conv2DTranspose({w3}, (4, 4), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add({lr})

    # 마지막은 RGB 3채널 + tanh (데이터를 -1~1로 정규화했으므로)
    model.add(layers.Conv2DTranspose(3, (4, 4), strides=(2, 2), padding='same', activation='tanh'))
    return model'''


def d_ref(sigmoid: bool = False, alpha_kw: bool = False, width: int = 64) -> str:
    """The reference DCGAN discriminator (logits, or a sigmoid output)."""
    lr = "layers.LeakyReLU(alpha=0.2)" if alpha_kw else "layers.LeakyReLU(0.2)"
    head = "layers.Dense(1, activation='sigmoid')" if sigmoid else "layers.Dense(1)"
    note = "  # 확률로 출력하려고 sigmoid 추가" if sigmoid else ""
    return f'''\
def make_discriminator_model():
    model = tf.keras.Sequential()
    model.add(layers.Conv2D({width}, (4, 4), strides=(2, 2), padding='same', input_shape=[32, 32, 3]))
    model.add({lr})

    model.add(layers.Conv2D({width * 2}, (4, 4), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add({lr})

    model.add(layers.Conv2D({width * 4}, (4, 4), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add({lr})

    model.add(layers.Flatten())
    model.add({head}){note}
    return model'''


G_LIST = '''\
def make_generator_model():
    # Sequential에 레이어 리스트를 한 번에 넣는 방식으로 정리
    model = tf.keras.Sequential([
        layers.Input(shape=(100,)),
        layers.Dense(4 * 4 * 256, use_bias=False),
        layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Reshape((4, 4, 256)),
        layers.Conv2DTranspose(128, 4, strides=2, padding='same', use_bias=False),   # 8x8
        layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(64, 4, strides=2, padding='same', use_bias=False),    # 16x16
        layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(3, 4, strides=2, padding='same', activation='tanh'),  # 32x32x3
    ], name='generator')
    return model'''


def d_list(sigmoid: bool = False) -> str:
    """The reference discriminator as ``Sequential([...])``."""
    head = "layers.Dense(1, activation='sigmoid')" if sigmoid else "layers.Dense(1)"
    return f'''\
def make_discriminator_model():
    model = tf.keras.Sequential([
        layers.Input(shape=(32, 32, 3)),
        layers.Conv2D(64, 4, strides=2, padding='same'),                  # 16x16
        layers.LeakyReLU(0.2),
        layers.Conv2D(128, 4, strides=2, padding='same', use_bias=False), # 8x8
        layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Conv2D(256, 4, strides=2, padding='same', use_bias=False), # 4x4
        layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Flatten(),
        {head},
    ], name='discriminator')
    return model'''


G_FUNCTIONAL = '''\
def make_generator_model():
    # Functional API로 작성
    inputs = tf.keras.Input(shape=(100,))
    x = layers.Dense(4 * 4 * 256, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((4, 4, 256))(x)

    for filters in [128, 64]:   # 4 -> 8 -> 16
        x = layers.Conv2DTranspose(filters, 4, strides=2, padding='same', use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)

    outputs = layers.Conv2DTranspose(3, 4, strides=2, padding='same', activation='tanh')(x)  # 32x32x3
    return tf.keras.Model(inputs, outputs, name='generator')'''

D_FUNCTIONAL = '''\
def make_discriminator_model():
    inputs = tf.keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(64, 4, strides=2, padding='same')(inputs)
    x = layers.LeakyReLU(0.2)(x)
    for filters in [128, 256]:
        x = layers.Conv2D(filters, 4, strides=2, padding='same', use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(1)(x)   # logit
    return tf.keras.Model(inputs, outputs, name='discriminator')'''

G_UPSAMPLING = '''\
def make_generator_model():
    # Conv2DTranspose 대신 UpSampling2D + Conv2D (체커보드 무늬가 덜 생긴다고 해서)
    model = tf.keras.Sequential()
    model.add(layers.Dense(8 * 8 * 128, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU(0.2))
    model.add(layers.Reshape((8, 8, 128)))

    model.add(layers.UpSampling2D())                      # 16x16
    model.add(layers.Conv2D(128, kernel_size=3, padding='same'))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU(0.2))

    model.add(layers.UpSampling2D())                      # 32x32
    model.add(layers.Conv2D(64, kernel_size=3, padding='same'))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU(0.2))

    model.add(layers.Conv2D(3, kernel_size=3, padding='same', activation='tanh'))
    return model'''

G_BUILD = g_ref().replace("def make_generator_model():", "def build_generator():")
D_BUILD = d_ref().replace("def make_discriminator_model():", "def build_discriminator():")

G_FASHION = '''\
def make_generator_model():

    model = tf.keras.Sequential()

    model.add(layers.Dense(7*7*256, use_bias=False, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Reshape((7, 7, 256)))

    model.add(layers.Conv2DTranspose(128, kernel_size=(5, 5), strides=(1, 1), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(64, kernel_size=(5, 5), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    # 28x28x1 출력
    model.add(layers.Conv2DTranspose(1, kernel_size=(5, 5), strides=(2, 2), padding='same', use_bias=False,
                                     activation='tanh'))

    return model'''

D_FASHION = '''\
def make_discriminator_model():

    model = tf.keras.Sequential()

    model.add(layers.Conv2D(64, (5, 5), strides=(2, 2), padding='same', input_shape=[28, 28, 1]))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Conv2D(128, (5, 5), strides=(2, 2), padding='same'))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Flatten())
    model.add(layers.Dense(1))

    return model'''

G_TOB = '''\
# 생성자: UpSampling2D + Conv2D (수업 자료 2의 구조를 32x32x3으로 변경)
generator = Sequential()
generator.add(Dense(128 * 8 * 8, input_shape=(MY_NOISE,)))
generator.add(LeakyReLU(0.2))
generator.add(BatchNormalization())
generator.add(Reshape((8, 8, 128)))
generator.add(UpSampling2D())                         # 16x16
generator.add(Conv2D(64, kernel_size=5, padding='same'))
generator.add(BatchNormalization())
generator.add(Activation(LeakyReLU(0.2)))
generator.add(UpSampling2D())                         # 32x32
generator.add(Conv2D(3, kernel_size=5, padding='same', activation='tanh'))
generator.summary()'''

D_TOB = '''\
# 판별자: 마지막에 sigmoid, binary_crossentropy로 compile
discriminator = Sequential()
discriminator.add(Conv2D(64, kernel_size=5, strides=2, input_shape=(32, 32, 3), padding='same'))
discriminator.add(Activation(LeakyReLU(0.2)))
discriminator.add(Dropout(0.3))
discriminator.add(Conv2D(128, kernel_size=5, strides=2, padding='same'))
discriminator.add(Activation(LeakyReLU(0.2)))
discriminator.add(Dropout(0.3))
discriminator.add(Flatten())
discriminator.add(Dense(1, activation='sigmoid'))
discriminator.compile(loss='binary_crossentropy', optimizer=Adam(2e-4, 0.5), metrics=['accuracy'])
discriminator.summary()'''

GAN_TOB = '''\
# 생성자 + 판별자를 연결한 gan 모델 (판별자는 학습되지 않게)
discriminator.trainable = False
ginput = Input(shape=(MY_NOISE,))
dis_output = discriminator(generator(ginput))
gan = Model(ginput, dis_output)
gan.compile(loss='binary_crossentropy', optimizer=Adam(2e-4, 0.5))
gan.summary()'''

MODELS: dict[str, ModelCode] = {
    "lesson": ModelCode(G_LESSON, D_LESSON, "alice"),
    "ref": ModelCode(g_ref(), d_ref(), "ref"),
    "ref_alpha": ModelCode(g_ref(alpha_kw=True), d_ref(alpha_kw=True), "ref"),
    "ref_sigmoid": ModelCode(g_ref(), d_ref(sigmoid=True), "ref"),
    "list": ModelCode(G_LIST, d_list(), "ref"),
    "list_sigmoid": ModelCode(G_LIST, d_list(sigmoid=True), "ref"),
    "functional": ModelCode(G_FUNCTIONAL, D_FUNCTIONAL, "ref"),
    "upsampling": ModelCode(G_UPSAMPLING, d_ref(), None),
    "build": ModelCode(G_BUILD, D_BUILD, "ref", "build_generator", "build_discriminator"),
    "wide": ModelCode(g_ref(width=384), d_ref(width=96), "wide"),
    "fashion": ModelCode(G_FASHION, D_FASHION, None, out_shape=(28, 28, 1)),
    "tob": ModelCode(G_TOB, D_TOB, None, "", ""),
}
"""Model variants by key."""


def losses_cell(from_logits: bool = True, smoothing: float | None = None) -> str:
    """``cross_entropy``, ``generator_loss`` and ``discriminator_loss``."""
    real = ("tf.ones_like(real_output)" if smoothing is None
            else f"tf.ones_like(real_output) * {smoothing}")
    note = ("  # one-sided label smoothing: 진짜 라벨을 1 대신 0.9로" if smoothing is not None
            else "")
    return f'''\
cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits={from_logits})

def generator_loss(fake_output):
    # 생성자는 판별자가 가짜를 진짜(1)로 판단하길 원함
    return cross_entropy(tf.ones_like(fake_output), fake_output)

def discriminator_loss(real_output, fake_output):
    real_loss = cross_entropy({real}, real_output){note}
    fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
    total_loss = real_loss + fake_loss
    return total_loss'''


ACC_LESSON = '''\
def discriminator_accuracy(real_output, fake_output):
    real_accuracy = tf.reduce_mean(tf.cast(tf.math.greater_equal(real_output, tf.constant([0.5])), tf.float32))
    fake_accuracy = tf.reduce_mean(tf.cast(tf.math.less(fake_output, tf.constant([0.5])), tf.float32))
    return real_accuracy, fake_accuracy'''

ACC_FIXED = '''\
def discriminator_accuracy(real_output, fake_output):
    # 판별자 출력이 logit이라서 0.5가 아니라 0을 기준으로 비교 (sigmoid(0) = 0.5)
    real_accuracy = tf.reduce_mean(tf.cast(tf.math.greater_equal(real_output, tf.constant([0.0])), tf.float32))
    fake_accuracy = tf.reduce_mean(tf.cast(tf.math.less(fake_output, tf.constant([0.0])), tf.float32))
    return real_accuracy, fake_accuracy'''

ACC_SIGMOID = '''\
def discriminator_accuracy(real_output, fake_output):
    # 판별자 출력이 확률(sigmoid)이므로 0.5 기준
    real_accuracy = tf.reduce_mean(tf.cast(real_output >= 0.5, tf.float32))
    fake_accuracy = tf.reduce_mean(tf.cast(fake_output < 0.5, tf.float32))
    return real_accuracy, fake_accuracy'''

ACCURACY = {"lesson_bug": ACC_LESSON, "fixed": ACC_FIXED, "sigmoid": ACC_SIGMOID}


def optimizers_cell(lr: float = 1e-4, beta_1: float | None = None) -> str:
    """The two Adam optimizers."""
    args = f"{lr:g}" if beta_1 is None else f"learning_rate={lr:g}, beta_1={beta_1:g}"
    return (f"generator_optimizer = tf.keras.optimizers.Adam({args})\n"
            f"discriminator_optimizer = tf.keras.optimizers.Adam({args})")
