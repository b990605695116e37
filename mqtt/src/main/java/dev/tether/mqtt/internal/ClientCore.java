package dev.tether.mqtt.internal;

import dev.tether.core.ConnectionClosedException;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.CredentialsRequest;
import dev.tether.mqtt.MqttDelivery;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttSession;
import dev.tether.mqtt.MqttSessionStore;
import dev.tether.mqtt.MqttSubscription;
import dev.tether.mqtt.PublishResult;
import java.util.ArrayList;
import java.util.Objects;
import java.util.List;
import org.jspecify.annotations.Nullable;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The client state that outlives a single connection, behind one monitor: the connection in use, the packet
 * ids ({@link PacketIds}), outbound publishes ({@link OutboundPublishes}), the subscriptions
 * ({@link SubscriptionRegistry}) and their SUBSCRIBE/UNSUBSCRIBE exchanges ({@link SubscribeFlow}), and inbound
 * delivery ({@link InboundDelivery}). This class is the facade: the user's calls and the connection's events
 * take the monitor and hand over to those parts, which are not thread-safe themselves.
 *
 * <p>Guarded by its own monitor. Completions of user-facing signals are collected while it is held and run after
 * it is released.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class ClientCore {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClientCore.class);

    private final MqttClientConfig config;
    private @Nullable MqttConnection connection;
    private final PacketIds ids = new PacketIds();
    private final OutboundPublishes outbound;
    private final SubscriptionRegistry registry = new SubscriptionRegistry();
    private final SubscribeFlow subscriptions = new SubscribeFlow(ids, registry);
    private final InboundDelivery inbound;
    private final InboundSubscriber.Listener listener = new SubscriberListener();
    /** Takes a publish when it is subscribed to, and back when its subscriber cancels it (one for all publishes). */
    private final OutboundPublishes.Owner owner = new OutboundPublishes.Owner() {
        @Override
        public void publish(OutboundPublishes.Publish op) {
            ClientCore.this.publish(op);
        }

        @Override
        public void cancel(OutboundPublishes.Publish op) {
            cancelPending(op);
        }
    };
    private boolean shutdown;
    private @Nullable ConnectionClosedException terminal;
    private @Nullable MqttSessionStore sessionStore;
    private @Nullable MqttSessionStore storeToOpen;
    /** The open store's storage, read without the monitor by {@link #publish}: null until {@link #openStore}. */
    private volatile @Nullable SessionStorage openStorage;
    private List<String> storeEndpoints = List.of();
    /**
     * What opening the session store found worth saying (kind, details), reported on the first connection; the
     * shared empty list while there is nothing to say.
     */
    private List<String[]> storeNotices = List.of();
    /**
     * Endpoints whose broker answered a re-authentication with DISCONNECT 0x8C (it does not support it): an
     * immutable set replaced on a change, which is rare, so that a client that never met one holds no set of its own.
     */
    private volatile java.util.Set<String> reauthRefusedBy = java.util.Set.of();

    /** @param config the client settings */
    public ClientCore(MqttClientConfig config) {
        this.config = config;
        this.inbound = new InboundDelivery(config.inboundBufferSize(), config.dropQos0WhenFull()
                ? InboundDelivery.Qos0Overflow.DROP : InboundDelivery.Qos0Overflow.PAUSE_READING);
        this.outbound = new OutboundPublishes(ids, config.offlineCapacity(), config.overflowPolicy(), config.maxInFlight(),
                config.maxPacketSize(), config.isV5(), this::drainOnLoop, subscriptions::waitingForIds);
    }

    // ------------------------------------------------------------------ user side

    /**
     * @param message the message to publish
     * @return completes on the acknowledgement the QoS asks for
     */
    public Mono<PublishResult> publish(MqttMessage message) {
        // The publish is its own Mono (see OutboundPublishes.Publish): nothing is sent until it is subscribed to.
        return OutboundPublishes.Publish.of(message, owner);
    }

    private void publish(OutboundPublishes.Publish op) {
        // The thread's own list, not one per publish: a QoS 1 publish from another thread adds nothing to it.
        Scratch<Runnable> after = Scratch.COMPLETIONS.take();
        try {
            SessionStorage storage = openStorage;
            // A QoS 1 or 2 message is stored (and, per message, committed) before the monitor is taken: the event
            // loop, which needs the monitor for every acknowledgement, never waits for a commit or an fsync of add().
            if (storage == null || storage.accept(op, after)) {
                synchronized (this) {
                    if (shutdown) {
                        if (storage != null) {
                            storage.finished(op);
                        }
                        ConnectionClosedException closed = new ConnectionClosedException("the MQTT client is closed; "
                                + "publish to '" + op.message.topic() + "' refused", null);
                        after.add(() -> op.fail(closed));
                    } else {
                        outbound.publish(op, connection, after);
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            after.release();
            throw e;
        }
        Scratch.runAll(after);
    }

    private void cancelPending(OutboundPublishes.Publish op) {
        synchronized (this) {
            outbound.cancel(op);
        }
    }

    /**
     * The messages of one subscription, one registration per subscriber: each subscriber of the returned flux
     * is a subscriber of the filter, with its own bounded buffer drained under its demand.
     *
     * @param spec   the subscription
     * @param manual whether the subscriber acknowledges each message itself (elements are {@link MqttDelivery})
     * @return the messages ({@link MqttMessage}) or deliveries ({@link MqttDelivery})
     */
    public <T> Flux<T> subscribe(MqttSubscription spec, boolean manual) {
        Objects.requireNonNull(spec, "subscription");
        return new Flux<>() {
            @Override
            public void subscribe(CoreSubscriber<? super T> actual) {
                addSubscriber(new InboundSubscriber(actual, spec, manual, config.inboundBufferSize(), listener));
            }
        };
    }

    private void addSubscriber(InboundSubscriber s) {
        Throwable refused = null;
        boolean closed;
        ConnectionClosedException ended;
        List<Runnable> after = new ArrayList<>(0);
        synchronized (this) {
            closed = shutdown;
            ended = terminal;
            if (!closed) {
                try {
                    SubscriptionRegistry.Filter f = subscriptions.add(s);
                    inbound.claimHeld(s);
                    subscriptions.subscribeIfNeeded(f, connection, after);
                } catch (IllegalArgumentException e) {
                    refused = e;
                }
            }
        }
        after.forEach(Runnable::run);
        s.start();
        if (refused != null) {
            s.error(refused);
        } else if (closed && ended != null) {
            s.error(ended);
        } else if (closed) {
            s.complete();
        }
        s.drain();
    }

    /** The client side of every subscriber. */
    private final class SubscriberListener implements InboundSubscriber.Listener {
        @Override
        public void released(InboundEntry entry) {
            synchronized (ClientCore.this) {
                inbound.released(entry);
            }
        }

        @Override
        public void cancelled(InboundSubscriber s, List<InboundEntry> notEmitted) {
            List<InboundSubscriber> toDrain = new ArrayList<>();
            synchronized (ClientCore.this) {
                SubscriptionRegistry.Filter gone = registry.remove(s);
                List<InboundEntry> all = new ArrayList<>(notEmitted);
                all.addAll(s.takeRemaining());
                inbound.abandoned(registry, all, toDrain);
                if (gone != null && !shutdown) {
                    subscriptions.unsubscribe(gone.filter, connection);
                }
            }
            toDrain.forEach(InboundSubscriber::drain);
        }

        @Override
        public void saturated(boolean on) {
            synchronized (ClientCore.this) {
                inbound.saturated(on);
            }
        }
    }

    /** @return completes when no publish is in flight or waiting to be sent */
    Mono<Void> drained() {
        return Mono.create(sink -> {
            boolean now;
            synchronized (this) {
                now = outbound.idle();
                if (!now) {
                    outbound.whenDrained(sink);
                }
            }
            if (now) {
                sink.success();
            }
        });
    }

    /**
     * MQTT 5 re-authentication on the connection in use: asks the provider to refresh, then sends AUTH.
     *
     * @param credentials the provider
     * @return completes when the broker accepted the new credentials
     */
    public Mono<Void> reauthenticate(CredentialsProvider credentials) {
        return Mono.defer(() -> {
            MqttConnection c;
            synchronized (this) {
                c = usable(connection) ? connection : null;
            }
            if (c == null) {
                return Mono.error(new IllegalStateException("not connected; re-authentication needs an established connection"));
            }
            MqttConnection live = c;
            String endpoint = live.attempt().endpoint().toString();
            if (reauthRefusedBy.contains(endpoint)) {
                return Mono.error(new dev.tether.mqtt.MqttRefusedException("AUTH", 0x8C, "the broker at " + endpoint
                        + " answered an earlier re-authentication with DISCONNECT 0x8C (bad authentication method): it does"
                        + " not support re-authentication; renew with a planned reconnect (MqttClient.reconnect())"));
            }
            return Mono.defer(() -> credentials.credentials(new CredentialsRequest(1, live.attempt().endpoint(), true)))
                    .switchIfEmpty(Mono.error(() -> new IllegalStateException("the credentials provider completed without credentials")))
                    .flatMap(live::reauthenticate);
        });
    }

    /**
     * Remembers that the broker at an endpoint refused a re-authentication with DISCONNECT 0x8C, so that
     * {@link #reauthenticate} fails at once there and a renewal falls back to a planned reconnect.
     *
     * @param endpoint the endpoint, as {@code Endpoint.toString()}
     */
    void reauthenticationRefused(String endpoint) {
        synchronized (this) {
            java.util.Set<String> refused = reauthRefusedBy;
            if (!refused.contains(endpoint)) {
                java.util.Set<String> more = new java.util.HashSet<>(refused);
                more.add(endpoint);
                reauthRefusedBy = java.util.Set.copyOf(more);
            }
        }
    }

    /**
     * Ends the session in use for a planned reconnect (see {@link MqttConnection#closeForReconnect()}).
     *
     * @return completes when the session has ended
     */
    public Mono<Void> endSessionForReconnect() {
        return Mono.defer(() -> {
            MqttConnection c;
            synchronized (this) {
                c = usable(connection) ? connection : null;
            }
            if (c == null) {
                return Mono.error(new IllegalStateException("not connected; a planned reconnect needs an established connection"));
            }
            return c.closeForReconnect();
        });
    }

    /**
     * The client is closed for good: waiting publishes fail, subscriber fluxes end.
     *
     * @param cause the terminal cause, or null after a user close
     */
    public void shutdown(@Nullable Throwable cause) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (shutdown) {
                return;
            }
            shutdown = true;
            ConnectionClosedException closed = new ConnectionClosedException(cause == null ? "the MQTT client was closed"
                    : "the MQTT client closed for good: " + cause.getMessage(), cause);
            terminal = cause == null ? null : closed;
            outbound.failAll(closed, after);
            for (SubscriptionRegistry.Filter f : registry.all()) {
                for (InboundSubscriber sub : f.subscribers) {
                    after.add(cause == null ? sub::complete : () -> sub.error(closed));
                }
            }
            outbound.releaseDrainWaiters(after);
            if (sessionStore != null) {
                // What was not acknowledged stays in the store for the next start.
                after.add(sessionStore::close);
            }
        }
        after.forEach(Runnable::run);
    }

    /**
     * Sets the session store {@link #openStore()} opens.
     *
     * @param store     the store
     * @param endpoints the client's endpoints as recorded in the store ({@code scheme://host:port/path})
     */
    public synchronized void sessionStore(MqttSessionStore store, List<String> endpoints) {
        this.storeToOpen = store;
        this.storeEndpoints = List.copyOf(endpoints);
    }

    /**
     * Opens the session store, if one was set and it is not open yet, before the first connection, and takes
     * back the unfinished publishes it held; from then on each QoS 1 and 2 publish is stored from acceptance to
     * its acknowledgement.
     *
     * @throws dev.tether.mqtt.MqttSessionStoreException if the store cannot be opened
     */
    public void openStore() {
        MqttSessionStore store;
        synchronized (this) {
            store = storeToOpen;
            storeToOpen = null;
            if (store == null || shutdown) {
                return;
            }
        }
        MqttSessionStore.Contents contents = store.open(new MqttSessionStore.SessionSettings(config.clientId(),
                config.version(), config.cleanStart(), config.sessionExpiry(), storeEndpoints));
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            sessionStore = store;
            SessionStorage storage = new SessionStorage(store);
            openStorage = storage;
            outbound.useStore(storage, contents, after);
            inbound.useStore(store, contents.inboundAwaitingPubrel());
            subscriptions.useStore(storage, contents.subscriptions());
            List<String[]> found = new ArrayList<>(0);
            for (String n : contents.notices()) {
                LOG.warn("{}", n);
                found.add(new String[] {"session-store-settings", n});
            }
            if (!contents.subscriptions().isEmpty()) {
                List<String> filters = new ArrayList<>();
                contents.subscriptions().forEach(sub -> filters.add(sub.topicFilter()));
                found.add(new String[] {"subscriptions-restored", filters.size() + " subscriptions restored from "
                        + "the session store " + filters + ": their messages are held unacknowledged until the "
                        + "application subscribes to the same filter"});
            }
            if (!found.isEmpty()) {
                storeNotices = found;
            }
        }
        after.forEach(Runnable::run);
    }

    // ------------------------------------------------------------------ connection side

    /**
     * A connection was accepted: resend what is in flight (session present) or start over, resubscribe,
     * then send what waited.
     */
    void connected(MqttConnection c, MqttSession session) {
        boolean sessionPresent = session.sessionPresent();
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            connection = c;
            for (String[] n : storeNotices) {
                after.add(() -> c.reportNotice(n[0], n[1]));
            }
            storeNotices = List.of();
            subscriptions.connecting(session);
            inbound.connected(c, sessionPresent, session.version() == dev.tether.mqtt.MqttVersion.MQTT_5
                    ? config.receiveMaximum() : Integer.MAX_VALUE);
            outbound.connected(c, session, after);
            subscriptions.resubscribe(c, sessionPresent, after);
            outbound.drain(connection, after);
        }
        after.forEach(Runnable::run);
    }

    /** The connection ended; what is in flight waits for the next one. */
    synchronized void disconnected(MqttConnection c) {
        if (connection == c) {
            connection = null;
        }
        List<InboundSubscriber> all = new ArrayList<>();
        registry.all().forEach(f -> all.addAll(f.subscribers));
        inbound.disconnected(c, all);
    }

    /** The connection stopped taking new publishes (graceful close). */
    synchronized void stopSending(MqttConnection c) {
        if (connection == c) {
            connection = null;
        }
    }

    /** @return false if the id is not a QoS 1 publish in flight (a protocol violation) */
    boolean onPubAck(int id, int reasonCode) {
        Scratch<Runnable> after = Scratch.COMPLETIONS.take();
        boolean known;
        try {
            synchronized (this) {
                known = outbound.onPubAck(connection, id, reasonCode, after);
                idsFreed(after);
            }
        } catch (RuntimeException | Error e) {
            after.release();
            throw e;
        }
        Scratch.runAll(after);
        return known;
    }

    /** @return false if the id is not a QoS 2 publish in flight */
    boolean onPubRec(MqttConnection c, int id, int reasonCode) {
        Scratch<Runnable> after = Scratch.COMPLETIONS.take();
        boolean known;
        try {
            synchronized (this) {
                known = outbound.onPubRec(c, connection, id, reasonCode, after);
                idsFreed(after);
            }
        } catch (RuntimeException | Error e) {
            after.release();
            throw e;
        }
        Scratch.runAll(after);
        return known;
    }

    /** @return false if the id is not a released QoS 2 publish */
    boolean onPubComp(int id, int reasonCode) {
        Scratch<Runnable> after = Scratch.COMPLETIONS.take();
        boolean known;
        try {
            synchronized (this) {
                known = outbound.onPubComp(connection, id, reasonCode, after);
                idsFreed(after);
            }
        } catch (RuntimeException | Error e) {
            after.release();
            throw e;
        }
        Scratch.runAll(after);
        return known;
    }

    /** @return false if no SUBSCRIBE waits for this id or the codes do not fit */
    boolean onSubAck(MqttConnection c, int id, List<Integer> codes) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (!subscriptions.onSubAck(c, id, codes, after)) {
                return false;
            }
            outbound.drain(connection, after);
        }
        after.forEach(Runnable::run);
        return true;
    }

    /** @return false if no UNSUBSCRIBE waits for this id */
    boolean onUnsubAck(int id) {
        List<Runnable> after = new ArrayList<>(0);
        synchronized (this) {
            if (!subscriptions.onUnsubAck(connection, id, after)) {
                return false;
            }
            outbound.drainAndNotify(connection, after);
        }
        after.forEach(Runnable::run);
        return true;
    }

    /**
     * PUBREL for an inbound QoS 2 message: forget its id and queue the PUBCOMP behind the PUBREC it answers.
     *
     * @return false if the broker sent PUBREL before the client sent PUBREC (a protocol violation)
     */
    synchronized boolean releaseQos2(AckWriter c, int id, boolean v5) {
        InboundDelivery.Release r = inbound.onPubRel(id);
        if (r == InboundDelivery.Release.PREMATURE) {
            return false;
        }
        // MQTT 5: 0x92 (packet identifier not found) for an id not received, so nothing is confirmed that was
        // not received; MQTT 3.1.1 has no reason codes.
        c.queueComplete(id, r == InboundDelivery.Release.RELEASED || !v5 ? 0x00 : 0x92);
        return true;
    }

    /** An inbound PUBLISH: routed to its subscribers' buffers; its acknowledgement follows their demand. */
    void onPublish(MqttConnection c, MqttMessage message, int packetId, List<Integer> identifiers) {
        // The event loop's own lists, not two per message: the drains below run user code, which may publish.
        Scratch<InboundSubscriber> toDrain = Scratch.SUBSCRIBERS.take();
        try {
            Scratch<String[]> notices = Scratch.NOTICES.take();
            try {
                synchronized (this) {
                    inbound.onPublish(registry, message, packetId, identifiers, toDrain, notices);
                }
                for (int i = 0; i < notices.size(); i++) {
                    c.attempt().reportNotice(notices.get(i)[0], notices.get(i)[1]);
                }
            } finally {
                notices.release();
            }
            for (int i = 0; i < toDrain.size(); i++) {
                toDrain.get(i).drain();
            }
        } finally {
            toDrain.release();
        }
    }

    /** @return counters of the inbound side, for tests and the command line */
    public synchronized dev.tether.mqtt.MqttInboundState inboundState() {
        int buffered = 0;
        for (SubscriptionRegistry.Filter f : registry.all()) {
            for (InboundSubscriber s : f.subscribers) {
                buffered += s.buffered();
            }
        }
        return new dev.tether.mqtt.MqttInboundState(inbound.unacknowledged(), buffered, inbound.held(),
                inbound.readingPaused(), inbound.droppedQos0(), inbound.receiveMaximumOvershoots());
    }

    // ------------------------------------------------------------------ internals (hold the monitor)

    private boolean usable(@Nullable MqttConnection c) {
        return c != null && c.canSend();
    }

    /**
     * An exchange ended and freed a packet id: a SUBSCRIBE or UNSUBSCRIBE that found none goes first, then the
     * publishes that waited behind it.
     */
    private void idsFreed(List<Runnable> after) {
        if (subscriptions.waitingForIds()) {
            subscriptions.retryWaiting(connection, after);
            outbound.drainAndNotify(connection, after);
        }
    }

    /** Runs on the connection's event loop: writes what waits, as far as the in-flight window allows. */
    private void drainOnLoop() {
        Scratch<Runnable> after = Scratch.COMPLETIONS.take();
        try {
            synchronized (this) {
                outbound.drainAndNotify(connection, after);
            }
        } catch (RuntimeException | Error e) {
            after.release();
            throw e;
        }
        Scratch.runAll(after);
    }
}
