package dev.tether.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.jwt.JwtVerifier;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttSessionStore;
import dev.tether.samples.broker.JwtBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PublishCommandTest {

    private static final String SECRET = "a-test-secret-of-at-least-32-bytes-long";

    @Test
    void publishesNumberedMessagesAndFinishesWhatTheStoreHolds(@TempDir Path dir) throws Exception {
        Path secretFile = Files.writeString(dir.resolve("secret"), SECRET, StandardCharsets.UTF_8);
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(SECRET.getBytes(StandardCharsets.UTF_8)).build();
        Path store = dir.resolve("store");
        try (JwtBroker broker = JwtBroker.start(verifier, why -> { })) {
            TetherCommandTest.Result r = TetherCommandTest.run("publish", "mqtt", broker.tcpUri(), "--topic", "cli/pub",
                    "--qos", "1", "--count", "50", "--store", store.toString(), "--jwt-hs256-secret-file",
                    secretFile.toString(), "--json");
            assertThat(r.code()).as(r.out() + r.err()).isZero();
            assertThat(r.out()).contains("\"published\":50,\"acknowledged\":50,\"failed\":0");

            // What a killed run would have left: three accepted, unacknowledged publishes.
            try (MqttSessionStore s = MqttSessionStore.file(store.resolve(PublishMqttCommand.STORE_FILE))) {
                MqttSessionStore.Contents held = s.open(MqttSessionStore.SessionSettings.of("tether-publish"));
                assertThat(held.inFlight()).isEmpty();
                assertThat(held.waiting()).isZero();
                for (int i = 0; i < 3; i++) {
                    s.add(MqttMessage.of("cli/pub", "left-" + i, MqttQos.AT_LEAST_ONCE));
                }
            }
            TetherCommandTest.Result finish = TetherCommandTest.run("publish", "mqtt", broker.tcpUri(), "--topic", "cli/pub",
                    "--count", "0", "--store", store.toString(), "--jwt-hs256-secret-file", secretFile.toString());
            assertThat(finish.code()).as(finish.out() + finish.err()).isZero();
            assertThat(finish.out()).contains("published     0, acknowledged 0, failed 0");
            try (MqttSessionStore s = MqttSessionStore.file(store.resolve(PublishMqttCommand.STORE_FILE))) {
                MqttSessionStore.Contents held = s.open(MqttSessionStore.SessionSettings.of("tether-publish"));
                assertThat(held.inFlight()).as("the store is finished").isEmpty();
                assertThat(held.waiting()).as("the store is finished").isZero();
            }
        }
        TetherCommandTest.Result usage = TetherCommandTest.run("publish", "mqtt", "tcp://127.0.0.1:1", "--topic", "t",
                "--count", "0");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("--count 0 only makes sense with --store");
    }
}
