package dev.tether.mqtt;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Where a client keeps the session state that must outlive its process: each outgoing QoS 1 and 2 message
 * from the moment {@link MqttClient#publish(MqttMessage)} accepts it (offline buffer included) until the
 * broker's PUBACK or PUBCOMP, with its packet id and whether PUBREL was sent; and the client id the state
 * belongs to.
 *
 * <p>The client calls a store under its own monitor, one call at a time, in the order the events happen:
 * {@link #open} once in {@link MqttClient#start()}, then {@link #add} for each accepted message,
 * {@link #sent} when it gets a packet id (before the PUBLISH is flushed), {@link #released} when PUBREC came
 * (before PUBREL is written), {@link #remove} when it is finished, and {@link #close} once when the client is
 * closed. A store decides when its writes are durable; a message is safe once that happened (see
 * {@link MqttFileSessionStore} for the durable one).
 *
 * <p>Two implementations: {@link #inMemory()}, the default, keeps nothing beyond the client's own memory (a
 * restart loses what was not acknowledged); {@link #file(Path)} keeps it in one H2 MVStore file.
 */
public interface MqttSessionStore extends AutoCloseable {

    /**
     * An outgoing publish the store holds.
     *
     * @param key      the store's key for it, increasing in the order publishes were accepted
     * @param message  the message as accepted
     * @param packetId its packet id, or 0 if it was not sent yet (or must be sent again as a new publish)
     * @param released whether PUBREC came for it (QoS 2): what is left is PUBREL and PUBCOMP
     */
    record StoredPublish(long key, MqttMessage message, int packetId, boolean released) {
        /**
         * Checks the fields.
         *
         * @param key      the store's key for it
         * @param message  the message as accepted
         * @param packetId its packet id, or 0
         * @param released whether PUBREC came for it
         */
        public StoredPublish {
            Objects.requireNonNull(message, "message");
            if (packetId < 0 || packetId > 0xFFFF) {
                throw new IllegalArgumentException("packetId must be between 0 and 65535, but was " + packetId);
            }
        }
    }

    /** @return a store that keeps nothing beyond the client's memory (what a client does without a store) */
    static MqttSessionStore inMemory() {
        return new InMemory();
    }

    /**
     * @param file the store file (created if missing; its directory must exist)
     * @return a durable store with the defaults of {@link MqttFileSessionStore.Builder}: each message committed
     *         to the file before {@code publish()} goes on, not forced to disk (survives a process crash, not
     *         a power loss)
     */
    static MqttSessionStore file(Path file) {
        return MqttFileSessionStore.builder(file).build();
    }

    /**
     * Opens the store for a client and returns what it holds. A new store is bound to the client id; a store
     * bound to another client id, or a file that is not a store, is refused.
     *
     * @param clientId the client id (not empty: a broker-assigned id cannot find its session again)
     * @return the unfinished publishes, in the order they were accepted
     * @throws MqttSessionStoreException if the store cannot be opened, is locked by another process, is
     *                                   corrupt or belongs to another client id
     */
    List<StoredPublish> open(String clientId);

    /**
     * A QoS 1 or 2 message was accepted.
     *
     * @param message the message
     * @return its key
     * @throws MqttSessionStoreException if it could not be stored (the publish then fails)
     */
    long add(MqttMessage message);

    /**
     * The publish got a packet id (called before its PUBLISH is flushed), or lost it. A durable store makes a
     * QoS 2 id durable before it returns: a QoS 2 message resent after a restart must carry the id the broker
     * knows, or the broker would deliver it twice. A QoS 1 id may be written later (a QoS 1 message may be
     * delivered twice).
     *
     * @param key      the publish's key
     * @param packetId the packet id it is sent with, or 0 when it will be sent again as a new publish
     * @param qos      the publish's QoS
     */
    void sent(long key, int packetId, MqttQos qos);

    /**
     * PUBREC came for a QoS 2 publish (called before PUBREL is written). A durable store makes it durable
     * before it returns.
     *
     * @param key the publish's key
     */
    void released(long key);

    /**
     * The publish is finished (acknowledged, refused or cancelled). May be written later: a publish whose
     * removal was lost is resent after a restart, which the broker answers without delivering it twice (QoS 2)
     * or may deliver again (QoS 1).
     *
     * @param key the publish's key
     */
    void remove(long key);

    /**
     * PUBREC went out for an inbound QoS 2 message: its id waits for the broker's PUBREL, which may come after a
     * restart. May be written later (a lost id only makes the PUBCOMP say 0x92, packet identifier not found).
     *
     * @param packetId the message's packet id
     */
    default void inboundAwaitingPubrel(int packetId) {
    }

    /**
     * PUBREL came for an inbound QoS 2 id, or the broker kept no session (0: all ids).
     *
     * @param packetId the id, or 0 for all
     */
    default void inboundReleased(int packetId) {
    }

    /** @return the inbound QoS 2 ids that waited for PUBREL when the store was last used (after {@link #open}) */
    default java.util.Set<Integer> inboundAwaitingPubrel() {
        return java.util.Set.of();
    }

    /** Releases the store (and its file lock); the state stays for the next {@link #open}. */
    @Override
    void close();

    /** Keeps nothing: the client's own queues are the state. */
    final class InMemory implements MqttSessionStore {
        private long next;

        private InMemory() {
        }

        @Override
        public List<StoredPublish> open(String clientId) {
            return List.of();
        }

        @Override
        public synchronized long add(MqttMessage message) {
            return ++next;
        }

        @Override
        public void sent(long key, int packetId, MqttQos qos) {
        }

        @Override
        public void released(long key) {
        }

        @Override
        public void remove(long key) {
        }

        @Override
        public void close() {
        }

        @Override
        public String toString() {
            return "MqttSessionStore.inMemory()";
        }
    }
}
