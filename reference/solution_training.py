# %% [markdown]
# ## Step 0-1. Folders and data
# CIFAR-10 from `tf.keras.datasets` (downloads once), scaled to [-1, 1].

# %%
import glob
import os
import time

import imageio
import matplotlib.pyplot as plt

BASE_DIR = os.path.join(os.getenv("HOME", "."), "aiffel", "dcgan_newimage", "cifar10")
for sub in ("generated_samples", "training_checkpoints", "training_history"):
    os.makedirs(os.path.join(BASE_DIR, sub), exist_ok=True)

(train_x, _), (test_x, _) = tf.keras.datasets.cifar10.load_data()
train_x = (train_x.astype("float32") - 127.5) / 127.5

BUFFER_SIZE = 50000
BATCH_SIZE = 128
EPOCHS = 50
noise_dim = 100
num_examples_to_generate = 16
train_dataset = tf.data.Dataset.from_tensor_slices(train_x).shuffle(BUFFER_SIZE).batch(BATCH_SIZE)

# %%
plt.figure(figsize=(10, 5))
for i in range(10):
    plt.subplot(2, 5, i + 1)
    plt.imshow((train_x[i] + 1) / 2)  # all three channels, back in [0, 1]
    plt.axis("off")
plt.show()

# %% [markdown]
# ## Step 5. One training step, sample grids, history plots, checkpoints

# %%
generator = make_generator_model()
discriminator = make_discriminator_model()
seed = tf.random.normal([num_examples_to_generate, noise_dim])


@tf.function
def train_step(images):
    noise = tf.random.normal([tf.shape(images)[0], noise_dim])
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
    discriminator_optimizer.apply_gradients(
        zip(gradients_of_discriminator, discriminator.trainable_variables))
    return gen_loss, disc_loss, real_accuracy, fake_accuracy


def generate_and_save_images(model, epoch, it, sample_seeds):
    predictions = model(sample_seeds, training=False)
    plt.figure(figsize=(4, 4))
    for i in range(predictions.shape[0]):
        plt.subplot(4, 4, i + 1)
        plt.imshow((predictions[i].numpy() + 1) / 2)  # RGB, not channel 0
        plt.axis("off")
    plt.savefig(f"{BASE_DIR}/generated_samples/sample_epoch_{epoch:04d}_iter_{it:03d}.png")
    plt.show()


def draw_train_history(history, epoch):
    plt.figure(figsize=(15, 6))
    plt.subplot(211)
    plt.plot(history["gen_loss"])
    plt.plot(history["disc_loss"])
    plt.title("model loss")
    plt.legend(["gen_loss", "disc_loss"], loc="upper left")
    plt.subplot(212)
    plt.plot(history["fake_accuracy"])
    plt.plot(history["real_accuracy"])
    plt.axhline(0.5, color="k", linestyle="--")
    plt.title("discriminator accuracy")
    plt.legend(["fake_accuracy", "real_accuracy"], loc="upper left")
    plt.savefig(f"{BASE_DIR}/training_history/train_history_{epoch:04d}.png")
    plt.show()


checkpoint_dir = os.path.join(BASE_DIR, "training_checkpoints")
checkpoint_prefix = os.path.join(checkpoint_dir, "ckpt")
checkpoint = tf.train.Checkpoint(generator_optimizer=generator_optimizer,
                                 discriminator_optimizer=discriminator_optimizer,
                                 generator=generator, discriminator=discriminator)

# %% [markdown]
# ## Step 6. Training (50 epochs) and the GIF

# %%
def train(dataset, epochs, save_every):
    history = {"gen_loss": [], "disc_loss": [], "real_accuracy": [], "fake_accuracy": []}
    for epoch in range(epochs):
        start = time.time()
        for it, image_batch in enumerate(dataset):  # noqa: B007 (it is used after the loop)
            gen_loss, disc_loss, real_acc, fake_acc = train_step(image_batch)
            history["gen_loss"].append(float(gen_loss))
            history["disc_loss"].append(float(disc_loss))
            history["real_accuracy"].append(float(real_acc))
            history["fake_accuracy"].append(float(fake_acc))
        generate_and_save_images(generator, epoch + 1, it + 1, seed)
        print(f"epoch {epoch + 1}: {time.time() - start:.0f} s")
        if (epoch + 1) % save_every == 0:
            checkpoint.save(file_prefix=checkpoint_prefix)
        draw_train_history(history, epoch)
    return history


history = train(train_dataset, EPOCHS, save_every=5)

# %%
anim_file = f"{BASE_DIR}/cifar10_dcgan.gif"
with imageio.get_writer(anim_file, mode="I") as writer:
    for filename in sorted(glob.glob(f"{BASE_DIR}/generated_samples/sample*.png")):
        writer.append_data(imageio.imread(filename))
