package dev.tether.benchmarks.internal;

import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttFileSessionStore;

/** Tether's MQTT client with a durable session store: each message committed and forced to disk. */
final class TetherSyncStoreMqttDriver extends TetherStoreMqttDriver {

    @Override
    MqttClient.Builder customize(MqttClient.Builder builder) {
        return builder.sessionStore(MqttFileSessionStore.builder(file()).forceToDisk(true).build());
    }
}
