package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One received QoS 1 or 2 message on its way to its subscribers. It is acknowledged (PUBACK, PUBREC) on
 * the connection it came on once every target has released it: an automatic subscriber when the message
 * was emitted to it under its demand, a manual one when the application acknowledged it.
 *
 * <p>{@link #pending} and {@link #done} are guarded by the client's monitor; {@link #claims} is not.
 */
final class InboundEntry {

    /** The connection the message came on; acknowledgements go there only. */
    final @Nullable AckWriter connection;
    final int packetId;
    final MqttQos qos;
    final MqttMessage message;
    /** Targets that have not released the message yet (the unmatched hold counts as one). */
    int pending;
    boolean done;
    /** Acknowledgements on later connections that wait for this entry (a QoS 2 redelivery). */
    @Nullable List<InboundEntry> followers;
    /** How many targets it was emitted to; -1 once withdrawn (the connection ended before any emission). */
    private final AtomicInteger claims = new AtomicInteger();

    InboundEntry(@Nullable AckWriter connection, int packetId, MqttQos qos, MqttMessage message) {
        this.connection = connection;
        this.packetId = packetId;
        this.qos = qos;
        this.message = message;
    }

    /** @return false if the entry was withdrawn and must not be emitted */
    boolean claim() {
        for (;;) {
            int c = claims.get();
            if (c < 0) {
                return false;
            }
            if (claims.compareAndSet(c, c + 1)) {
                return true;
            }
        }
    }

    /** @return true if no target had it yet and it is now withdrawn */
    boolean withdraw() {
        return claims.compareAndSet(0, -1);
    }

    boolean withdrawn() {
        return claims.get() < 0;
    }

    /** @return whether it was emitted to at least one target */
    boolean emitted() {
        return claims.get() > 0;
    }

    void follow(InboundEntry ack) {
        if (followers == null) {
            followers = new ArrayList<>(1);
        }
        followers.add(ack);
    }

    @Override
    public String toString() {
        return "InboundEntry{" + message.topic() + ", id " + packetId + ", qos " + qos.value() + ", pending " + pending
                + (done ? ", done" : "") + "}";
    }
}
