package dev.tether.mqtt;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Where a client keeps the session state that must outlive its process: each outgoing QoS 1 and 2 message
 * from the moment {@link MqttClient#publish(MqttMessage)} accepts it (offline buffer included) until the
 * broker's PUBACK or PUBCOMP, with its packet id and whether PUBREL was sent; the inbound QoS 2 ids waiting
 * for PUBREL; the subscriptions the broker granted; and the session settings the state belongs to.
 *
 * <p>The client calls a store under its own monitor, one call at a time, in the order the events happen:
 * {@link #open} once in {@link MqttClient#start()}, then {@link #add} for each accepted message,
 * {@link #sent} when it gets a packet id (before the PUBLISH is flushed), {@link #released} when PUBREC came
 * (before PUBREL is written), {@link #remove} when it is finished, {@link #subscribed} and {@link #unsubscribed}
 * as the broker's subscriptions change, and {@link #close} once when the client is closed. {@link #open} returns
 * the publishes that were in flight; the ones that waited are read page by page with {@link #waiting}, as the
 * client sends them, so a large store is never loaded into memory at once. A store decides when its writes are durable; a message is safe once that happened (see
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

    /**
     * The session a store belongs to: what {@link MqttClient.Builder} was given. The client id must match the
     * one the store was written for; the other settings are recorded and a change is reported.
     *
     * @param clientId      the client id (not empty)
     * @param version       the MQTT version asked for
     * @param cleanStart    clean start (MQTT 5) or clean session (3.1.1)
     * @param sessionExpiry the session expiry interval asked for
     * @param endpoints     the broker endpoints, as {@code scheme://host:port/path} (no query: it may carry a token)
     */
    record SessionSettings(String clientId, MqttVersion version, boolean cleanStart, Duration sessionExpiry,
                           List<String> endpoints) {
        /**
         * Checks and copies the fields.
         *
         * @param clientId      the client id
         * @param version       the MQTT version
         * @param cleanStart    clean start
         * @param sessionExpiry the session expiry interval
         * @param endpoints     the broker endpoints
         */
        public SessionSettings {
            Objects.requireNonNull(clientId, "clientId");
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(sessionExpiry, "sessionExpiry");
            endpoints = List.copyOf(endpoints);
        }

        /**
         * @param clientId the client id
         * @return settings with the client's defaults (MQTT 5, clean start, no expiry, no endpoint): for a store
         *         used on its own, e.g. to look into it
         */
        public static SessionSettings of(String clientId) {
            return new SessionSettings(clientId, MqttVersion.MQTT_5, true, Duration.ZERO, List.of());
        }
    }

    /**
     * What an opened store holds.
     *
     * @param inFlight              the publishes that had a packet id (sent, not finished), in the order they
     *                              were accepted: at most 65535, whatever the size of the store
     * @param waiting               how many publishes wait without a packet id; read them with {@link #waiting}
     * @param lastKey               the largest key in the store when it was opened (0 if none): the publishes
     *                              restored are those up to it
     * @param subscriptions         the subscriptions the broker granted, one per topic filter, with the
     *                              Subscription Identifier the client used
     * @param inboundAwaitingPubrel the inbound QoS 2 ids that waited for PUBREL
     * @param notices               what the store found worth saying, e.g. session settings that changed since
     *                              it was written (the client reports them on its lifecycle)
     */
    record Contents(List<StoredPublish> inFlight, long waiting, long lastKey, List<MqttSubscription> subscriptions,
                    Set<Integer> inboundAwaitingPubrel, List<String> notices) {
        /** An empty store. */
        public static final Contents EMPTY = new Contents(List.of(), 0, 0, List.of(), Set.of(), List.of());

        /**
         * Checks and copies the fields.
         *
         * @param inFlight              the publishes with a packet id
         * @param waiting               how many wait without one
         * @param lastKey               the largest key
         * @param subscriptions         the subscriptions
         * @param inboundAwaitingPubrel the inbound QoS 2 ids
         * @param notices               notices
         */
        public Contents {
            inFlight = List.copyOf(inFlight);
            subscriptions = List.copyOf(subscriptions);
            inboundAwaitingPubrel = Set.copyOf(inboundAwaitingPubrel);
            notices = List.copyOf(notices);
            if (waiting < 0) {
                throw new IllegalArgumentException("waiting must not be negative, but was " + waiting);
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
     * Opens the store for a client and says what it holds. A new store records the settings; a store written
     * for another client id, or a file that is not a store, is refused and left as it is; other settings that
     * changed are recorded and reported in {@link Contents#notices()}.
     *
     * @param settings the client's session settings (client id not empty: a broker-assigned id cannot find its
     *                 session again)
     * @return what the store holds, without the publishes that wait (see {@link #waiting})
     * @throws MqttSessionStoreException if the store cannot be opened, is locked by another process, is
     *                                   corrupt or belongs to another client id
     */
    Contents open(SessionSettings settings);

    /**
     * A page of the publishes that wait without a packet id, in the order they were accepted.
     *
     * @param afterKey the key after which to start (0 for the first page)
     * @param upToKey  the largest key to return
     * @param max      the most publishes to return
     * @return up to {@code max} publishes with {@code afterKey < key <= upToKey} and no packet id; fewer than
     *         {@code max} only when no more are left in that range
     */
    List<StoredPublish> waiting(long afterKey, long upToKey, int max);

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

    /**
     * The broker granted a subscription (SUBACK), or granted it again with other settings. May be written
     * later: a subscription lost with a crash is subscribed again by the application.
     *
     * @param subscription the topic filter with the QoS asked, its MQTT 5 options and the Subscription
     *                     Identifier the client uses for it; it replaces what was kept for the same filter
     */
    default void subscribed(MqttSubscription subscription) {
    }

    /**
     * The client left a subscription (its last subscriber went away) or the broker refused it.
     *
     * @param topicFilter the topic filter, as sent to the broker
     */
    default void unsubscribed(String topicFilter) {
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
        public Contents open(SessionSettings settings) {
            return Contents.EMPTY;
        }

        @Override
        public List<StoredPublish> waiting(long afterKey, long upToKey, int max) {
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
