package dev.tether.benchmarks.internal;

import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttFileSessionStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Tether's MQTT client with a durable session store: group commit every 10 ms, not forced to disk. */
class TetherStoreMqttDriver extends TetherMqttDriver {

    @Override
    MqttClient.Builder customize(MqttClient.Builder builder) {
        return builder.sessionStore(MqttFileSessionStore.builder(file()).groupCommit(Duration.ofMillis(10)).build());
    }

    static Path file() {
        try {
            Path dir = Files.createTempDirectory("tether-bench-store");
            dir.toFile().deleteOnExit();
            Path file = dir.resolve("session.mv");
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
