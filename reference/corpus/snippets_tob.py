"""Student code in the ``train_on_batch`` style (a compiled combined model, no GradientTape)."""

from __future__ import annotations

IMPORTS = '''\
import os
import glob
import time

import PIL
import imageio
import numpy as np
import matplotlib.pyplot as plt
import tensorflow as tf
from tensorflow.keras.layers import Input, Dense, Reshape, Flatten, Dropout
from tensorflow.keras.layers import BatchNormalization, Activation, LeakyReLU, UpSampling2D, Conv2D
from tensorflow.keras.models import Sequential, Model
from tensorflow.keras.optimizers import Adam
%matplotlib inline

print(tf.__version__)'''

SETTINGS = '''\
MY_NOISE = 100        # 노이즈 벡터 크기
MY_BATCH = 128
MY_ITER = @ITER@      # 반복 횟수 (50000 / 128 = 약 390번이 1 epoch)
MY_INTERVAL = @INTERVAL@   # 1 epoch마다 출력 + 샘플 저장
MY_FOLDER = os.getenv('HOME') + '/aiffel/dcgan_newimage/cifar10/generated_samples'
os.makedirs(MY_FOLDER, exist_ok=True)'''

DATA = '''\
(X_train, _), (_, _) = tf.keras.datasets.cifar10.load_data()
X_train = X_train.astype('float32')
X_train = (X_train - 127.5) / 127.5     # -1 ~ 1
print(X_train.shape, X_train.min(), X_train.max())'''

SAMPLE = '''\
def sample(i):
    row = col = 4
    noise = np.random.normal(0, 1, (row * col, MY_NOISE))
    fake = generator.predict(noise, verbose=0)
    fake = 0.5 * fake + 0.5          # tanh 출력(-1~1)을 0~1로

    fig, spot = plt.subplots(row, col, figsize=(4, 4))
    cnt = 0
    for r in range(row):
        for c in range(col):
            @IMSHOW@
            spot[r, c].axis('off')
            cnt += 1
    plt.savefig(os.path.join(MY_FOLDER, 'img-{:05d}.png'.format(i)))
    plt.close()'''

TRAIN = '''\
g_loss_hist, d_loss_hist, fake_acc_hist, real_acc_hist = [], [], [], []

def train_discriminator():
    # 진짜 이미지 한 배치
    idx = np.random.randint(0, X_train.shape[0], MY_BATCH)
    d_loss_real = discriminator.train_on_batch(X_train[idx], np.ones((MY_BATCH, 1)))
    # 가짜 이미지 한 배치
    noise = np.random.normal(0, 1, (MY_BATCH, MY_NOISE))
    fake = generator.predict(noise, verbose=0)
    d_loss_fake = discriminator.train_on_batch(fake, np.zeros((MY_BATCH, 1)))
    real_acc_hist.append(d_loss_real[1])
    fake_acc_hist.append(d_loss_fake[1])    # 가짜를 가짜로 맞힌 비율
    return 0.5 * np.add(d_loss_real, d_loss_fake)

def train_generator():
    noise = np.random.normal(0, 1, (MY_BATCH, MY_NOISE))
    return gan.train_on_batch(noise, np.ones((MY_BATCH, 1)))

def gan_train():
    begin = time.time()
    print('\\nGAN 학습 시작')
    for i in range(MY_ITER + 1):
        d_loss = train_discriminator()
        g_loss = train_generator()
        d_loss_hist.append(d_loss[0])
        g_loss_hist.append(g_loss)
        if i % MY_INTERVAL == 0:
            print('반복:', i, '생성자 손실: {:.3f}'.format(g_loss), '감별자 손실: {:.3f}'.format(d_loss[0]),
                  '감별자 정확도: {:.1f}%'.format(d_loss[1] * 100))
            sample(i)
    print('최종 학습 시간: {:.1f}초'.format(time.time() - begin))'''

PLOT = '''\
plt.figure(figsize=(15, 8))
plt.subplot(211)
plt.plot(g_loss_hist, 'r', label='generator loss', linewidth=0.3)
plt.plot(d_loss_hist, 'b', label='discriminator loss', linewidth=0.3)
plt.title('Generator and Discriminator loss')
plt.legend()

plt.subplot(212)
plt.plot(fake_acc_hist, label='fake accuracy', linewidth=0.3)
plt.plot(real_acc_hist, label='real accuracy', linewidth=0.3)
plt.axhline(0.5, color='k', linestyle='--')
plt.title('discriminator accuracy')
plt.legend()
plt.savefig(os.getenv('HOME') + '/aiffel/dcgan_newimage/cifar10/training_history/history.png')
plt.show()'''


def settings_cell(iterations: int, interval: int) -> str:
    """The constants cell."""
    return SETTINGS.replace("@ITER@", str(iterations)).replace("@INTERVAL@", str(interval))


TOB_IMSHOW = {"correct": "spot[r, c].imshow(fake[cnt])",
              "gray_ch0": "spot[r, c].imshow(fake[cnt, :, :, 0], cmap='gray')"}
"""How ``sample`` shows one image, by display mode."""


def sample_cell(display: str) -> str:
    """The ``sample`` function with a display mode of :data:`TOB_IMSHOW`."""
    return SAMPLE.replace("@IMSHOW@", TOB_IMSHOW[display])
