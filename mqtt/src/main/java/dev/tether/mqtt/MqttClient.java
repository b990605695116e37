package dev.tether.mqtt;

import static dev.tether.core.internal.Require.positive;
import dev.tether.core.CloseMode;
import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.Endpoint;
import dev.tether.core.FailureClassifier;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.OverflowPolicy;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.mqtt.internal.ClientCore;
import dev.tether.mqtt.internal.EventLoopScheduler;
import dev.tether.mqtt.internal.MqttClientConfig;
import dev.tether.mqtt.internal.MqttConnector;
import dev.tether.mqtt.internal.TlsSettings;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * A reactive MQTT 3.1.1 and 5 client that keeps its connection alive.
 *
 * <p>The connection runs on the core engine: the first connect and every reconnect go through one
 * retry pipeline, credentials are asked for before every attempt, a CONNACK refusal is classified by
 * {@link MqttVerdicts#connack()} (an auth refusal refreshes the credentials and retries, even on the
 * first connect), and every step appears on {@link #lifecycle()}.
 *
 * <pre>{@code
 * MqttClient client = MqttClient.builder()
 *         .endpoint("ws://broker.example:8080/mqtt")
 *         .clientId("sensor-7")
 *         .credentials(tokens)
 *         .build()
 *         .start();
 * client.subscribe("alerts/#", MqttQos.AT_LEAST_ONCE).subscribe(m -> System.out.println(m.payloadAsString()));
 * client.publish(MqttMessage.of("status/sensor-7", "up", MqttQos.AT_LEAST_ONCE)).subscribe();
 * }</pre>
 *
 * <p><b>Protocol version</b>: MQTT 5 by default; a broker that refuses it (a 3.1.1 CONNACK, 0x84, or a close right
 * after CONNECT) is spoken to in MQTT 3.1.1 at once, remembered per endpoint, and reported as a {@code Notice} of
 * kind {@value Builder#VERSION_FALLBACK_NOTICE}. {@link Builder#versionFallback(boolean)} says how, and how to pin
 * the version.
 *
 * <p><b>TLS</b> ({@code ssl://}, {@code wss://}) is verified TLS: the server certificate must chain to a
 * trusted certificate (the JDK's trust store unless {@link Builder#trustedCertificates} or
 * {@link Builder#trustStore} says otherwise) and be issued for the endpoint's host name. No option turns
 * verification off. A refused certificate is reported with the host, the certificate's subject, issuer
 * and validity, and the problem (untrusted issuer, other host name, expired). Such a refusal is retried
 * with backoff at most {@link Builder#TLS_REFUSALS_BEFORE_GIVING_UP} times in a row; at the next one the
 * client gives up with a {@link dev.tether.core.RetriesExhaustedException}: retrying cannot repair a certificate
 * or a trust configuration, so the client must not loop silently; yet a few tries let a broker that is
 * mid-way through a certificate rotation, or failover to another endpoint with a good certificate,
 * succeed without giving up at the first refusal.
 *
 * <p>Thread-safe.
 */
public final class MqttClient {

    private final ResilientConnection<MqttSession> connection;
    private final ClientCore core;
    private final MqttClientConfig config;
    private final CredentialsProvider credentials;
    // For toBuilder(), with config and credentials: the endpoints as given, and the builder's other settings only
    // when one differs from its default (a whole builder copy per client was about 200 bytes of an idle client).
    private final List<Endpoint> endpoints;
    private final @Nullable Extras extras;

    private MqttClient(ResilientConnection<MqttSession> connection, ClientCore core, MqttClientConfig config,
                       CredentialsProvider credentials, List<Endpoint> endpoints, @Nullable Extras extras) {
        this.connection = connection;
        this.core = core;
        this.config = config;
        this.credentials = credentials;
        this.endpoints = endpoints;
        this.extras = extras;
        // The connector shuts the core down when the connection closes for good (Connector.closed).
    }

    /** @return a builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder prefilled with this client's settings. The copy keeps the client id, the credentials
     * provider and the {@linkplain Builder#sessionStore session store} object: a second client that
     * runs at the same time as this one needs its own {@code clientId} (a broker closes the older of two
     * connections with one id) and its own store (a store is opened by one client at a time).
     *
     * @return the builder
     */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Starts connecting, once. Returns at once, after opening the {@link Builder#sessionStore session store}
     * if one was given.
     *
     * @return this client
     * @throws MqttSessionStoreException if the session store cannot be opened: locked by another process,
     *                                   corrupt, or written for another client id (the message names the file;
     *                                   the file is left as it is)
     */
    public MqttClient start() {
        core.openStore();
        connection.start();
        return this;
    }

    /**
     * @return the lifecycle stream of the connection (hot; a late subscriber sees the current state first; it follows
     *         demand, with at most {@link dev.tether.core.ResilientConnection#LIFECYCLE_BUFFER} events waiting per
     *         subscriber: see {@link dev.tether.core.ResilientConnection#lifecycle()})
     */
    public Flux<LifecycleEvent> lifecycle() {
        return connection.lifecycle();
    }

    /** @return the underlying resilient connection, for the core operators */
    public ResilientConnection<MqttSession> connection() {
        return connection;
    }

    /**
     * @param timeout how long to wait
     * @return the negotiated session once connected; a {@link java.util.concurrent.TimeoutException} saying
     *         what the connection was doing when the time ran out
     */
    public Mono<MqttSession> awaitConnected(Duration timeout) {
        return connection.awaitConnected(timeout);
    }

    /**
     * Publishes a message. QoS 0 completes once written, QoS 1 on PUBACK, QoS 2 on PUBCOMP. While
     * disconnected the publish waits in the offline buffer (see {@link Builder#offlineBuffer}); QoS 1
     * and 2 publishes in flight when the connection drops are resent with their original packet ids
     * (DUP set) when the broker kept the session, and sent again as new publishes when it did not.
     * While connected, publishes beyond the broker's Receive Maximum wait for a free slot; at most
     * max(offline buffer capacity, {@link Builder#maxInFlight}) wait so, and beyond that the offline buffer's
     * overflow policy applies to them too. Resends are
     * reported on {@link #lifecycle()} as a {@code Notice} of kind {@code resent} or {@code republished}.
     * A QoS above the broker's Maximum QoS (MQTT 5 CONNACK) is lowered to it; the result says which QoS
     * was used. A retained publish to a broker without retain support fails with
     * {@link MqttRefusedException} (0x9A) instead of getting the connection closed.
     *
     * <p>When is a message safe? Without a {@link Builder#sessionStore session store}, a QoS 1 or 2 message
     * lives in this process until its acknowledgement: it survives a reconnect, not a restart. With
     * {@link MqttSessionStore#file}, it is safe from a crash of the process once the subscription to the
     * returned {@code Mono} has returned (the store committed it; with
     * {@link MqttFileSessionStore.Builder#groupCommit group commit}, at the next commit, at most the interval
     * later), and from a power loss only with {@link MqttFileSessionStore.Builder#forceToDisk forceToDisk}. A
     * publish the store cannot keep (disk full) fails with {@link MqttSessionStoreException}; the client goes on.
     * A message still unacknowledged when the client closes stays in the store and is sent by the next run.
     *
     * @param message the message
     * @return the broker's acknowledgement; completes empty if the offline buffer dropped the message
     *         ({@link OverflowPolicy#DROP_NEWEST}, {@link OverflowPolicy#DROP_OLDEST}); errors with
     *         {@link dev.tether.core.BufferOverflowException} ({@link OverflowPolicy#FAIL_NEWEST}),
     *         {@link MqttRefusedException} (reason code 0x80 or above), or
     *         {@link dev.tether.core.ConnectionClosedException} when the client closes first
     */
    public Mono<PublishResult> publish(MqttMessage message) {
        Objects.requireNonNull(message, "message");
        return core.publish(message);
    }

    /**
     * Publishes a copy of the payload: {@code publish(MqttMessage.of(topic, payload, qos))}. The array is copied
     * when this method is called, so the caller may reuse it as soon as it returns. A large payload that the
     * caller will not change again is cheaper without the copy:
     * {@code publish(MqttMessage.wrap(topic, payload, qos))} (see {@link MqttMessage#wrap}).
     *
     * @param topic   the topic name
     * @param payload the payload, copied
     * @param qos     the QoS
     * @return like {@link #publish(MqttMessage)}
     */
    public Mono<PublishResult> publish(String topic, byte[] payload, MqttQos qos) {
        return publish(MqttMessage.of(topic, payload, qos));
    }

    /**
     * Publishes a stream of messages, asking the source for more only as acknowledgements free
     * in-flight slots: at most {@link Builder#maxInFlight(int)} publishes are outstanding at once.
     *
     * @param messages the messages
     * @return the results, in order
     */
    public Flux<PublishResult> publishAll(Publisher<MqttMessage> messages) {
        return Flux.from(messages).flatMapSequential(this::publish, config.maxInFlight(), 1);
    }

    /**
     * Subscribes to a topic filter with the MQTT default options; see {@link #subscribe(MqttSubscription)}.
     *
     * @param topicFilter the topic filter, wildcards allowed, or a shared subscription {@code $share/{group}/{filter}}
     * @param qos         the maximum QoS asked
     * @return the messages
     * @throws IllegalArgumentException if the filter is invalid
     */
    public Flux<MqttMessage> subscribe(String topicFilter, MqttQos qos) {
        return subscribe(MqttSubscription.of(topicFilter, qos));
    }

    /**
     * Subscribes. Each subscriber of the returned flux is one subscriber of the filter; the subscription is
     * kept in a registry that survives reconnects (sent again whenever the broker did not keep the session).
     * Cancelling removes the subscriber; the last subscriber of a filter unsubscribes it at the broker. Every
     * SUBACK is reported on {@link #lifecycle()} as a {@code Notice} of kind {@code subscribed} (or
     * {@code resubscribed} after a reconnect) with the granted QoS or the refusal code.
     *
     * <p><b>When a message is acknowledged.</b> A QoS 1 or 2 message is acknowledged to the broker (PUBACK,
     * or PUBREC for QoS 2) once it has been emitted to every subscriber it matches, under each one's demand
     * ({@code onNext} called) &mdash; never on arrival &mdash; and after every message that arrived before it
     * was acknowledged (MQTT sends acknowledgements in order). So the broker's own flow control paces it: it
     * may not have more than {@link Builder#receiveMaximum(int)} messages unacknowledged (MQTT 5; a 3.1.1
     * broker applies its in-flight window). What a subscriber's own pipeline requested ahead (a
     * {@code publishOn} or {@code concatMap} prefetch) counts as emitted: if the process dies, those are the
     * messages it can lose. To acknowledge after your own work, use {@link #subscribeWithAcknowledgement}.
     *
     * <p><b>Buffers.</b> Each subscriber buffers at most {@link Builder#inboundBufferSize(int)} messages it has
     * not requested yet (plus what one socket read already brought); when a buffer is full the client stops
     * reading from the socket until it has room again, so TCP slows the broker down (see
     * {@link Builder#dropQos0WhenFull(boolean)} for dropping QoS 0 instead). The keepalive keeps running while
     * reads are paused.
     *
     * <p><b>Messages that match no subscriber</b> (a persistent session's messages arriving before the
     * application subscribed, or a message in flight when a filter was unsubscribed): QoS 1 and 2 are neither
     * acknowledged nor dropped; they wait, in order and bounded like a subscriber's buffer, for the first
     * subscriber whose filter matches them, and go to it alone. If the connection ends first, they were
     * never acknowledged, so a broker that keeps the session delivers them again. QoS 0 messages that match
     * no subscriber are dropped and counted (a {@code Notice} of kind {@code inbound-dropped}).
     *
     * <p><b>Shared subscriptions</b> ({@code $share/{group}/{filter}}) are matched on their filter part. When
     * the broker offers Subscription Identifiers (MQTT 5, {@link MqttSession#subscriptionIdentifiersAvailable()}),
     * each filter gets one and every PUBLISH goes to the subscribers of the filters it names: overlapping
     * filters never deliver one PUBLISH twice. Without them (MQTT 3.1.1), a PUBLISH goes to every subscriber
     * whose filter matches its topic.
     *
     * <p><b>Retained messages</b> reach each subscriber as if it had subscribed alone, following its
     * {@link RetainHandling}, and never twice: a subscriber joining a filter already subscribed makes the
     * client subscribe again, and the retained messages that SUBSCRIBE brings go to it alone.
     *
     * @param subscription the filter, QoS and options
     * @return the messages; errors with {@link MqttRefusedException} if the broker refuses the subscription,
     *         with {@link IllegalArgumentException} if its options disagree with another subscriber of the same
     *         filter; completes when the client is closed by the user ({@link #close()}, {@link #abort()}); errors
     *         with {@link dev.tether.core.ConnectionClosedException}, caused by the terminal failure, when the
     *         connection gives up (a FATAL verdict, retries exhausted). Messages already buffered are emitted first
     */
    public Flux<MqttMessage> subscribe(MqttSubscription subscription) {
        return core.subscribe(subscription, false);
    }

    /**
     * Subscribes with manual acknowledgement: a QoS 1 or 2 message is acknowledged to the broker only after
     * the application called {@link MqttDelivery#acknowledge()} (after its own work, a database write), and
     * every earlier message was acknowledged. A message never acknowledged is never acknowledged to the
     * broker: if the process dies first, a broker that keeps the session (clean start off, session expiry)
     * delivers it again. Unacknowledged messages count against {@link Builder#receiveMaximum(int)}: a
     * subscriber that never acknowledges stops the flow. Otherwise like {@link #subscribe(MqttSubscription)}.
     *
     * @param subscription the filter, QoS and options
     * @return the deliveries; ends like {@link #subscribe(MqttSubscription)}
     */
    public Flux<MqttDelivery> subscribeWithAcknowledgement(MqttSubscription subscription) {
        return core.subscribe(subscription, true);
    }

    /**
     * @return a snapshot of the way in: what waits for the application, what is unacknowledged, whether reads
     *         are paused, what was dropped; {@link MqttMetrics} turns it into meters
     */
    public MqttInboundState inboundState() {
        return core.inboundState();
    }

    /**
     * MQTT 5 re-authentication: asks the credentials provider for fresh credentials (as after a
     * refusal) and sends AUTH (0x19) with the secret as authentication data, without dropping the
     * connection. Needs {@link Builder#authenticationMethod(String)}.
     *
     * @return completes when the broker answers AUTH success; errors with {@link MqttRefusedException}
     *         on another answer, and at once (nothing sent) when the broker at this endpoint answered an earlier
     *         re-authentication with DISCONNECT 0x8C (it does not support re-authentication: renew with
     *         {@link #reconnect()}), or with {@link IllegalStateException} when not connected or not configured
     */
    public Mono<Void> reauthenticate() {
        return core.reauthenticate(credentials);
    }

    /**
     * Planned reconnect, for example just before the broker would end the session because the token
     * presented at CONNECT expires: the session in use ends at once with DISCONNECT 0x00 (the broker
     * discards the Will; publishes in flight are not waited for, the next session resends them when the
     * broker kept the session), and the connection reconnects at once, without the backoff of its
     * {@link dev.tether.core.ReconnectPolicy} and without counting a failure, asking the credentials provider again.
     * With {@code cleanStart(false)} and a session expiry the broker keeps the session and its
     * subscriptions. The lifecycle shows a {@code Notice} of kind {@code planned-reconnect}, then the
     * Disconnected and Connected events.
     *
     * @return completes when the old session has ended; errors with {@link IllegalStateException} when not connected
     */
    public Mono<Void> reconnect() {
        return core.endSessionForReconnect();
    }

    /**
     * Closes gracefully: publishes in flight, and those waiting for an in-flight slot, are sent and
     * acknowledged first (bounded by {@link Builder#drainTimeout}); what is still unacknowledged then fails
     * with {@link dev.tether.core.ConnectionClosedException}. Then DISCONNECT 0x00 is sent (the broker
     * discards the Will), and the transport is closed (WebSocket with a 1000 close frame), bounded by
     * {@link Builder#transportCloseTimeout}. While a connection attempt is under way: if CONNECT was sent, the
     * broker may already hold the Will, so the client waits for CONNACK (bounded by {@link Builder#connackTimeout},
     * counted from CONNECT, and by the close timeout), then sends DISCONNECT without starting the session; if no
     * CONNACK comes in time the transport is aborted and a {@code Notice} of kind {@code close-aborted} says the
     * broker may publish the Will. Before CONNECT was sent the attempt is simply closed. Lazy.
     *
     * @return completes when closed
     */
    public Mono<Void> close() {
        return connection.close(CloseMode.GRACEFUL);
    }

    /**
     * Closes gracefully but asks the broker to publish the Will: MQTT 5 DISCONNECT 0x04. With MQTT
     * 3.1.1 no DISCONNECT is sent, so the broker publishes the Will too. Lazy.
     *
     * @return completes when closed
     */
    public Mono<Void> closeWithWill() {
        return connection.close(CloseMode.GRACEFUL_WITH_WILL);
    }

    /**
     * Closes the transport at once, without DISCONNECT: the broker publishes the Will. Lazy.
     *
     * @return completes when closed
     */
    public Mono<Void> abort() {
        return connection.close(CloseMode.ABORT);
    }

    @Override
    public String toString() {
        return "MqttClient{" + connection.name() + ", clientId=" + config.clientId() + ", " + connection.state() + "}";
    }

    /**
     * Builds an {@link MqttClient}. Every setter validates at once and names the field and the bad value.
     */
    public static final class Builder {

        /** Credential attributes named {@code header.<Name>} become WebSocket upgrade headers by default. */
        public static final String HEADER_ATTRIBUTE_PREFIX = "header.";
        /** Credential attributes named {@code query.<name>} become WebSocket query parameters by default. */
        public static final String QUERY_ATTRIBUTE_PREFIX = "query.";
        /** Default protocol version: MQTT 5. */
        public static final MqttVersion DEFAULT_VERSION = MqttVersion.MQTT_5;
        /** Default for {@link #versionFallback(boolean)}: true, a broker that refuses MQTT 5 gets MQTT 3.1.1. */
        public static final boolean DEFAULT_VERSION_FALLBACK = true;
        /** The kind of the lifecycle {@code Notice} that reports a fallback to MQTT 3.1.1. */
        public static final String VERSION_FALLBACK_NOTICE = "version-fallback";
        /**
         * The kind of the lifecycle {@code Notice} that reports the broker's UNSUBACK (sent once the last subscriber of
         * a filter cancelled): the broker no longer routes to that filter. Its details name the filters.
         */
        public static final String UNSUBSCRIBE_ACKNOWLEDGED_NOTICE = "unsubscribe-acknowledged";
        /** Default keepalive: 60 s. */
        public static final Duration DEFAULT_KEEP_ALIVE = Duration.ofSeconds(60);
        /** Default wait for PINGRESP: 10 s. */
        public static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(10);
        /** Default wait for CONNACK: 10 s. */
        public static final Duration DEFAULT_CONNACK_TIMEOUT = Duration.ofSeconds(10);
        /** Default MQTT 5 session expiry: zero (the session ends with the connection). */
        public static final Duration DEFAULT_SESSION_EXPIRY = Duration.ZERO;
        /** Default offline buffer: 1000 publishes. */
        public static final int DEFAULT_OFFLINE_CAPACITY = 1000;
        /** Default overflow policy of the offline buffer: {@link OverflowPolicy#FAIL_NEWEST}. */
        public static final OverflowPolicy DEFAULT_OVERFLOW_POLICY = OverflowPolicy.FAIL_NEWEST;
        /** Default client cap on QoS 1 and 2 publishes in flight: 100 (the broker's Receive Maximum may lower it). */
        public static final int DEFAULT_MAX_IN_FLIGHT = 100;
        /**
         * Default Receive Maximum announced to an MQTT 5 broker: 100 unacknowledged QoS 1 and 2 messages, so
         * received messages the application has not taken hold at most 100 packets of {@link #DEFAULT_MAX_PACKET_SIZE}.
         */
        public static final int DEFAULT_RECEIVE_MAXIMUM = 100;
        /** Default bound on the messages each subscriber buffers beyond its demand: 256. */
        public static final int DEFAULT_INBOUND_BUFFER_SIZE = 256;
        /** Default largest packet received and sent: 1 MiB. */
        public static final int DEFAULT_MAX_PACKET_SIZE = 1024 * 1024;
        /** Certificate refusals (the broker's refused by the client, or the client's by the broker) in a row retried before the client gives up at the next one: 3. */
        public static final int TLS_REFUSALS_BEFORE_GIVING_UP = TlsSettings.MAX_TLS_FAILURES;
        /** The largest packet MQTT can express: a 268435455-byte remaining length plus a 5-byte fixed header. */
        public static final int MAX_MQTT_PACKET_SIZE = 268_435_460;
        /** Default bound on how long an inbound packet may stay incomplete: 10 s. */
        public static final Duration DEFAULT_INCOMPLETE_PACKET_TIMEOUT = Duration.ofSeconds(10);
        /** Default wait for publishes in flight or waiting for a slot on a graceful close: 5 s. */
        public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(5);
        /** Default bound on the transport close handshake (WebSocket close frame reply, FIN): 2 s. */
        public static final Duration DEFAULT_TRANSPORT_CLOSE_TIMEOUT = Duration.ofSeconds(2);
        private static final String DEFAULT_NAME = "mqtt";

        private final List<Endpoint> endpoints = new ArrayList<>(1);
        /** Null until set or until the first build() picks a random one (a random UUID per builder is garbage). */
        private @Nullable String clientId;
        private MqttVersion version = DEFAULT_VERSION;
        private @Nullable Boolean versionFallback;
        private boolean cleanStart = true;
        private Duration sessionExpiry = DEFAULT_SESSION_EXPIRY;
        private Duration keepAlive = DEFAULT_KEEP_ALIVE;
        private Duration pingTimeout = DEFAULT_PING_TIMEOUT;
        private Duration connackTimeout = DEFAULT_CONNACK_TIMEOUT;
        private @Nullable MqttWill will;
        private int offlineCapacity = DEFAULT_OFFLINE_CAPACITY;
        private OverflowPolicy overflowPolicy = DEFAULT_OVERFLOW_POLICY;
        private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
        private int receiveMaximum = DEFAULT_RECEIVE_MAXIMUM;
        private int inboundBufferSize = DEFAULT_INBOUND_BUFFER_SIZE;
        private boolean dropQos0WhenFull;
        private int maxPacketSize = DEFAULT_MAX_PACKET_SIZE;
        private Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;
        private Duration incompletePacketTimeout = DEFAULT_INCOMPLETE_PACKET_TIMEOUT;
        private Duration transportCloseTimeout = DEFAULT_TRANSPORT_CLOSE_TIMEOUT;
        private @Nullable SslContext sslContext;
        private java.security.@Nullable KeyStore trustStore;
        private @Nullable List<java.security.cert.X509Certificate> trustedCertificates;
        private java.security.@Nullable PrivateKey clientKey;
        private @Nullable List<java.security.cert.X509Certificate> clientChain;
        private Function<Credentials, Map<String, String>> webSocketHeaders = c -> prefixed(c, HEADER_ATTRIBUTE_PREFIX);
        private Function<Credentials, Map<String, String>> webSocketQuery = c -> prefixed(c, QUERY_ATTRIBUTE_PREFIX);
        private @Nullable String authenticationMethod;
        private CredentialsProvider credentials = CredentialsProvider.none();
        private ReconnectPolicy reconnect = ReconnectPolicy.defaults();
        private @Nullable FailureClassifier classifier;
        private @Nullable Scheduler scheduler;
        private @Nullable Duration attemptTimeout;
        private @Nullable Duration closeTimeout;
        private String name = DEFAULT_NAME;
        private @Nullable MqttSessionStore sessionStore;

        private Builder() {
        }

        private Builder(MqttClient client) {
            MqttClientConfig c = client.config;
            endpoints.addAll(client.endpoints);
            clientId = c.clientId();
            version = c.version();
            cleanStart = c.cleanStart();
            sessionExpiry = c.sessionExpiry();
            keepAlive = c.keepAlive();
            pingTimeout = c.pingTimeout();
            connackTimeout = c.connackTimeout();
            will = c.will();
            offlineCapacity = c.offlineCapacity();
            overflowPolicy = c.overflowPolicy();
            maxInFlight = c.maxInFlight();
            receiveMaximum = c.receiveMaximum();
            inboundBufferSize = c.inboundBufferSize();
            dropQos0WhenFull = c.dropQos0WhenFull();
            maxPacketSize = c.maxPacketSize();
            drainTimeout = c.drainTimeout();
            incompletePacketTimeout = c.incompletePacketTimeout();
            transportCloseTimeout = c.transportCloseTimeout();
            webSocketHeaders = c.webSocketHeaders();
            webSocketQuery = c.webSocketQuery();
            authenticationMethod = c.authenticationMethod();
            credentials = client.credentials;
            Extras x = client.extras;
            if (x != null) {
                versionFallback = x.versionFallback();
                sslContext = x.sslContext();
                trustStore = x.trustStore();
                trustedCertificates = x.trustedCertificates();
                clientKey = x.clientKey();
                clientChain = x.clientChain();
                reconnect = x.reconnect();
                classifier = x.classifier();
                scheduler = x.scheduler();
                attemptTimeout = x.attemptTimeout();
                closeTimeout = x.closeTimeout();
                name = x.name();
                sessionStore = x.sessionStore();
            }
        }

        /** @return the settings MqttClientConfig does not keep, or null when all of them have their defaults */
        private @Nullable Extras extras() {
            if (versionFallback == null && sslContext == null && trustStore == null && trustedCertificates == null
                    && clientKey == null && clientChain == null && reconnect == ReconnectPolicy.defaults()
                    && classifier == null && scheduler == null && attemptTimeout == null && closeTimeout == null
                    && DEFAULT_NAME.equals(name) && sessionStore == null) {
                return null;
            }
            return new Extras(versionFallback, sslContext, trustStore, trustedCertificates, clientKey, clientChain, reconnect,
                    classifier, scheduler, attemptTimeout, closeTimeout, name, sessionStore);
        }

        /**
         * @param uri an endpoint URI, added after those already given (failover order). Schemes:
         *            {@code tcp}/{@code mqtt} (1883), {@code ssl}/{@code tls}/{@code mqtts} (8883),
         *            {@code ws} (80), {@code wss} (443); WebSocket path defaults to {@code /mqtt}
         * @return this builder
         * @throws IllegalArgumentException if the URI is invalid or the scheme unsupported
         */
        public Builder endpoint(String uri) {
            return endpoint(Endpoint.of(uri));
        }

        /**
         * @param endpoint an endpoint, added after those already given
         * @return this builder
         * @throws IllegalArgumentException if the scheme is unsupported
         */
        public Builder endpoint(Endpoint endpoint) {
            Objects.requireNonNull(endpoint, "endpoint");
            MqttConnector.validateScheme(endpoint);
            endpoints.add(endpoint);
            return this;
        }

        /**
         * @param clientId the client identifier; default a random {@code tether-xxxxxxxx}; empty lets an
         *                 MQTT 5 broker assign one
         * @return this builder
         */
        public Builder clientId(String clientId) {
            this.clientId = Objects.requireNonNull(clientId, "clientId");
            return this;
        }

        /**
         * The protocol version the client speaks first. With {@link MqttVersion#MQTT_5} (the default) and
         * {@link #versionFallback(boolean)} on (the default), a broker that refuses MQTT 5 is spoken to in MQTT
         * 3.1.1 instead; see there.
         *
         * @param version the protocol version; default {@link #DEFAULT_VERSION}
         * @return this builder
         */
        public Builder version(MqttVersion version) {
            this.version = Objects.requireNonNull(version, "version");
            return this;
        }

        /**
         * Whether the client falls back to MQTT 3.1.1 when a broker refuses MQTT 5. A refusal is the broker's
         * CONNACK with 3.1.1 return code 1 (unacceptable protocol version) or MQTT 5 reason code 0x84
         * (unsupported protocol version), or the broker closing the connection right after the MQTT 5 CONNECT,
         * before any CONNACK (RabbitMQ before 3.13 does): the client then connects again at once with MQTT
         * 3.1.1 (no backoff, not counted as a failure), remembers the version for that endpoint so later
         * reconnects do not ask again, and reports a {@code Notice} of kind {@value #VERSION_FALLBACK_NOTICE}
         * naming the broker's answer on {@link MqttClient#lifecycle()}. If the 3.1.1 connection is closed before
         * CONNACK too, the version was not the reason and the failure is handled as any other.
         *
         * <p>Off, a version refusal ends the lifecycle with a {@link dev.tether.core.FatalConnectionException}
         * naming the broker's answer; a close before CONNACK is retried at most
         * {@link MqttVerdicts#UNSPECIFIED_MAX_CONSECUTIVE} times in a row.
         *
         * <p>With {@link #authenticationMethod(String)} the client never falls back: MQTT 3.1.1 has no enhanced
         * authentication, so the secret would reach the broker in another form than the one configured.
         * Asking for both is refused by {@link #build()}.
         *
         * @param fallback whether to fall back; default {@link #DEFAULT_VERSION_FALLBACK} (applies to
         *                 {@link MqttVersion#MQTT_5} only: there is no version below 3.1.1 to fall back to)
         * @return this builder
         */
        public Builder versionFallback(boolean fallback) {
            this.versionFallback = fallback;
            return this;
        }

        /**
         * @param cleanStart clean start (MQTT 5) / clean session (3.1.1); default true
         * @return this builder
         */
        public Builder cleanStart(boolean cleanStart) {
            this.cleanStart = cleanStart;
            return this;
        }

        /**
         * @param expiry MQTT 5 Session Expiry Interval, whole seconds; default {@link #DEFAULT_SESSION_EXPIRY}.
         *               With clean start off, a non-zero expiry lets the broker keep the session across reconnects
         * @return this builder
         */
        public Builder sessionExpiry(Duration expiry) {
            Objects.requireNonNull(expiry, "sessionExpiry");
            if (expiry.isNegative() || expiry.getSeconds() > 0xFFFFFFFFL) {
                throw new IllegalArgumentException("sessionExpiry must be between 0 and 4294967295 s, but was " + expiry);
            }
            this.sessionExpiry = expiry;
            return this;
        }

        /**
         * @param keepAlive the keepalive sent in CONNECT, whole seconds up to 65535 (zero disables);
         *                  the broker's Server Keep Alive overrides it; default {@link #DEFAULT_KEEP_ALIVE}
         * @return this builder
         */
        public Builder keepAlive(Duration keepAlive) {
            Objects.requireNonNull(keepAlive, "keepAlive");
            if (keepAlive.isNegative() || keepAlive.getSeconds() > 0xFFFF || keepAlive.getNano() != 0) {
                throw new IllegalArgumentException("keepAlive must be whole seconds between 0 and 65535, but was " + keepAlive);
            }
            this.keepAlive = keepAlive;
            return this;
        }

        /**
         * @param timeout how long to wait for PINGRESP before the connection is declared dead;
         *                default {@link #DEFAULT_PING_TIMEOUT}
         * @return this builder
         */
        public Builder pingTimeout(Duration timeout) {
            this.pingTimeout = positive("pingTimeout", timeout);
            return this;
        }

        /**
         * @param timeout how long to wait for CONNACK after CONNECT; default {@link #DEFAULT_CONNACK_TIMEOUT}
         * @return this builder
         */
        public Builder connackTimeout(Duration timeout) {
            this.connackTimeout = positive("connackTimeout", timeout);
            return this;
        }

        /**
         * @param will the Last Will
         * @return this builder
         */
        public Builder will(MqttWill will) {
            this.will = Objects.requireNonNull(will, "will");
            return this;
        }

        /**
         * @param capacity how many publishes wait while disconnected; default {@link #DEFAULT_OFFLINE_CAPACITY}.
         *                 While connected, publishes waiting for an in-flight slot are bounded by the larger of this
         *                 and {@link #maxInFlight(int)} (so {@code publishAll} never overflows), with the same policy
         * @param policy   what happens when it is full; default {@link #DEFAULT_OVERFLOW_POLICY}
         * @return this builder
         */
        public Builder offlineBuffer(int capacity, OverflowPolicy policy) {
            if (capacity < 0) {
                throw new IllegalArgumentException("offlineBuffer capacity must be >= 0, but was " + capacity);
            }
            this.offlineCapacity = capacity;
            this.overflowPolicy = Objects.requireNonNull(policy, "overflowPolicy");
            return this;
        }

        /**
         * @param max client cap on QoS 1 and 2 publishes in flight (1..65535); default {@link #DEFAULT_MAX_IN_FLIGHT}
         * @return this builder
         */
        public Builder maxInFlight(int max) {
            if (max < 1 || max > 65535) {
                throw new IllegalArgumentException("maxInFlight must be between 1 and 65535, but was " + max);
            }
            this.maxInFlight = max;
            return this;
        }

        /**
         * @param max MQTT 5 Receive Maximum announced to the broker (1..65535): how many received QoS 1 and 2
         *            messages may be unacknowledged at once, so it bounds what waits for the application;
         *            default {@link #DEFAULT_RECEIVE_MAXIMUM}. A broker that sends more is a protocol error (0x93)
         * @return this builder
         */
        public Builder receiveMaximum(int max) {
            if (max < 1 || max > 65535) {
                throw new IllegalArgumentException("receiveMaximum must be between 1 and 65535, but was " + max);
            }
            this.receiveMaximum = max;
            return this;
        }

        /**
         * @param messages how many messages each subscriber (and the hold of messages that match no subscriber)
         *                 buffers beyond its demand before the client stops reading from the socket (1..65535);
         *                 default {@link #DEFAULT_INBOUND_BUFFER_SIZE}. Worst case memory per subscriber: this
         *                 many packets of {@link #maxPacketSize(int)}, plus one socket read
         * @return this builder
         */
        public Builder inboundBufferSize(int messages) {
            if (messages < 1 || messages > 65535) {
                throw new IllegalArgumentException("inboundBufferSize must be between 1 and 65535, but was " + messages);
            }
            this.inboundBufferSize = messages;
            return this;
        }

        /**
         * @param drop what happens to a QoS 0 message whose subscriber's buffer is full: false (default) pauses
         *             reading from the socket, so nothing is lost and TCP slows the broker; true drops the
         *             message for that subscriber and counts it (a {@code Notice} of kind {@code inbound-dropped}
         *             on the first drop and every thousandth), so one slow QoS 0 subscriber never slows the others.
         *             QoS 1 and 2 messages are never dropped
         * @return this builder
         */
        public Builder dropQos0WhenFull(boolean drop) {
            this.dropQos0WhenFull = drop;
            return this;
        }

        /**
         * The largest MQTT packet, fixed header included, the client accepts and sends. MQTT 5 announces it
         * to the broker in CONNECT (Maximum Packet Size). Inbound, a larger packet is refused as soon as its
         * fixed header says so, without buffering its body: the connection is closed (MQTT 5: DISCONNECT
         * 0x95 first) with an {@link MqttProtocolException} on the lifecycle, and the client reconnects.
         * Outbound, a publish that would be larger fails alone with {@link MqttPacketTooLargeException};
         * the connection stays up. The broker's own Maximum Packet Size (MQTT 5 CONNACK) applies too.
         *
         * @param bytes the largest packet (64..268435460); default {@link #DEFAULT_MAX_PACKET_SIZE}
         * @return this builder
         */
        public Builder maxPacketSize(int bytes) {
            if (bytes < 64 || bytes > MAX_MQTT_PACKET_SIZE) {
                throw new IllegalArgumentException("maxPacketSize must be between 64 and " + MAX_MQTT_PACKET_SIZE
                        + ", but was " + bytes);
            }
            this.maxPacketSize = bytes;
            return this;
        }

        /**
         * Bounds how long an inbound packet may stay incomplete: from its first byte, the rest must arrive
         * within this time, or the connection is closed as a protocol error (MQTT 5: DISCONNECT 0x81
         * first) with an {@link MqttProtocolException} on the lifecycle, and the client reconnects. It
         * catches a broker (or a network) that stops in the middle of a packet, including CONNACK, long
         * before keepalive would. Give it room for the largest packet over the slowest link expected.
         *
         * @param timeout the bound; default {@link #DEFAULT_INCOMPLETE_PACKET_TIMEOUT}
         * @return this builder
         */
        public Builder incompletePacketTimeout(Duration timeout) {
            this.incompletePacketTimeout = positive("incompletePacketTimeout", timeout);
            return this;
        }

        /**
         * @param timeout how long a graceful close waits for publishes in flight (or waiting for a slot)
         *                to be acknowledged before DISCONNECT;
         *                default {@link #DEFAULT_DRAIN_TIMEOUT}
         * @return this builder
         */
        public Builder drainTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "drainTimeout");
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("drainTimeout must not be negative, but was " + timeout);
            }
            this.drainTimeout = timeout;
            return this;
        }

        /**
         * @param timeout how long the transport close may take after DISCONNECT (WebSocket: waiting for the
         *                broker's close frame or FIN) before the client closes TCP; default
         *                {@link #DEFAULT_TRANSPORT_CLOSE_TIMEOUT}
         * @return this builder
         */
        public Builder transportCloseTimeout(Duration timeout) {
            this.transportCloseTimeout = positive("transportCloseTimeout", timeout);
            return this;
        }

        /**
         * Raw TLS settings for {@code ssl} and {@code wss} endpoints, for what the other TLS options do not
         * cover. The host name is verified on every connection even with a raw context; trust is what the
         * context says (a context that trusts everything trusts everything: do not ship one). Prefer
         * {@link #trustedCertificates}, {@link #trustStore} and {@link #clientCertificate}, which explain
         * refusals clearly. Cannot be combined with them.
         *
         * @param sslContext a client TLS context; default the JDK's trust store with host name verification
         * @return this builder
         */
        public Builder sslContext(SslContext sslContext) {
            Objects.requireNonNull(sslContext, "sslContext");
            if (!sslContext.isClient()) {
                throw new IllegalArgumentException("sslContext must be a client context, but was a server context");
            }
            this.sslContext = sslContext;
            return this;
        }

        /**
         * Trusts these certificates (a private CA, or a broker's self-signed certificate) instead of the
         * JDK's trust store for {@code ssl} and {@code wss} endpoints. The server certificate must chain to
         * one of them and be issued for the endpoint's host name.
         *
         * @param certificates the trusted certificates, at least one
         * @return this builder
         */
        public Builder trustedCertificates(java.security.cert.X509Certificate... certificates) {
            Objects.requireNonNull(certificates, "trustedCertificates");
            if (certificates.length == 0) {
                throw new IllegalArgumentException("trustedCertificates must not be empty");
            }
            List<java.security.cert.X509Certificate> list = new ArrayList<>();
            for (java.security.cert.X509Certificate c : certificates) {
                list.add(Objects.requireNonNull(c, "trustedCertificates element"));
            }
            this.trustedCertificates = List.copyOf(list);
            return this;
        }

        /**
         * Trusts the certificates of this key store instead of the JDK's trust store for {@code ssl} and
         * {@code wss} endpoints; host names are verified as always.
         *
         * @param trustStore a loaded key store holding trusted certificates
         * @return this builder
         */
        public Builder trustStore(java.security.KeyStore trustStore) {
            this.trustStore = Objects.requireNonNull(trustStore, "trustStore");
            return this;
        }

        /**
         * Mutual TLS: the client presents this certificate when the broker asks for one.
         *
         * @param key   the client's private key (never logged)
         * @param chain the client's certificate, then its issuers
         * @return this builder
         */
        public Builder clientCertificate(java.security.PrivateKey key, java.security.cert.X509Certificate... chain) {
            Objects.requireNonNull(key, "clientCertificate key");
            Objects.requireNonNull(chain, "clientCertificate chain");
            if (chain.length == 0) {
                throw new IllegalArgumentException("clientCertificate chain must not be empty");
            }
            this.clientKey = key;
            this.clientChain = List.of(chain);
            return this;
        }

        /**
         * @param headers computed for every WebSocket attempt from that attempt's credentials (e.g. an
         *                {@code Authorization} header with a fresh token); default: the credential
         *                attributes named {@value #HEADER_ATTRIBUTE_PREFIX}{@code <Name>}
         * @return this builder
         */
        public Builder webSocketHeaders(Function<Credentials, Map<String, String>> headers) {
            this.webSocketHeaders = Objects.requireNonNull(headers, "webSocketHeaders");
            return this;
        }

        /**
         * @param query computed for every WebSocket attempt from that attempt's credentials, appended to the
         *              endpoint's query; default: the credential attributes named
         *              {@value #QUERY_ATTRIBUTE_PREFIX}{@code <name>}
         * @return this builder
         */
        public Builder webSocketQuery(Function<Credentials, Map<String, String>> query) {
            this.webSocketQuery = Objects.requireNonNull(query, "webSocketQuery");
            return this;
        }

        /**
         * @param method MQTT 5 enhanced authentication method: CONNECT carries the credentials' secret as
         *               Authentication Data instead of a password, and {@link MqttClient#reauthenticate()}
         *               becomes available
         * @return this builder
         */
        public Builder authenticationMethod(String method) {
            Objects.requireNonNull(method, "authenticationMethod");
            if (method.isBlank()) {
                throw new IllegalArgumentException("authenticationMethod must not be blank");
            }
            this.authenticationMethod = method;
            return this;
        }

        /**
         * @param provider asked before every attempt; user name and secret become the CONNECT user name and
         *                 password; default no credentials
         * @return this builder
         */
        public Builder credentials(CredentialsProvider provider) {
            this.credentials = Objects.requireNonNull(provider, "credentials");
            return this;
        }

        /**
         * @param policy backoff and limits; default {@link ReconnectPolicy#defaults()}
         * @return this builder
         */
        public Builder reconnect(ReconnectPolicy policy) {
            this.reconnect = Objects.requireNonNull(policy, "reconnect");
            return this;
        }

        /**
         * @param classifier consulted before {@link MqttVerdicts#connack()}
         * @return this builder
         */
        public Builder classifier(FailureClassifier classifier) {
            this.classifier = Objects.requireNonNull(classifier, "classifier");
            return this;
        }

        /**
         * The engine's timers and clock (and the protocol timers). By default they run on the event loop that carries
         * the client's TCP and TLS connections (one of Reactor Netty's shared client loops), so a reconnect's timer,
         * attempt and new channel share one thread; lifecycle events then reach subscribers on that loop, as the
         * events a connection itself raises always did: do not block in them. Give a scheduler for virtual time in
         * tests or to keep the timers off the loops.
         *
         * @param scheduler the engine's timers and clock (and the protocol timers); default the client's event loop
         * @return this builder
         */
        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * @param timeout bound on one attempt (credentials, transport, CONNACK); default the engine's
         * @return this builder
         */
        public Builder attemptTimeout(Duration timeout) {
            this.attemptTimeout = positive("attemptTimeout", timeout);
            return this;
        }

        /**
         * @param timeout bound on a whole graceful close before the transport is aborted; default the engine's
         * @return this builder
         */
        public Builder closeTimeout(Duration timeout) {
            this.closeTimeout = positive("closeTimeout", timeout);
            return this;
        }

        /**
         * @param name a name for logs and meters; default {@code mqtt}
         * @return this builder
         */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank");
            }
            this.name = name;
            return this;
        }

        /**
         * Keeps the unfinished QoS 1 and 2 publishes in a store that outlives the process (default: none, the
         * client's memory only). {@link MqttClient#start()} opens it and takes back what an earlier run left
         * unfinished: those publishes are resent on the first connection (with DUP and their packet ids when the
         * broker kept the session, as new publishes when not; reported as {@code resent} or {@code republished}
         * on {@link MqttClient#lifecycle()}). The subscriptions the broker granted are kept too: after a restart
         * each is back in the client without a subscriber (a {@code subscriptions-restored} notice lists them), is
         * subscribed again if the broker kept no session, and the first {@link MqttClient#subscribe} of the same
         * topic filter joins it; until then its QoS 1 and 2 messages are held unacknowledged (the broker's flow
         * control stops it at the Receive Maximum) and its QoS 0 messages are dropped and counted. The store also
         * records the session settings: another client id fails {@link MqttClient#start()}, another version,
         * clean start, session expiry or endpoint list is reported as a {@code session-store-settings} notice.
         * Needs a fixed {@link #clientId}; use {@link #cleanStart}(false) and a {@link #sessionExpiry} so the
         * broker keeps the session across a restart.
         *
         * @param store the store, e.g. {@link MqttSessionStore#file(java.nio.file.Path)}
         * @return this builder
         */
        public Builder sessionStore(MqttSessionStore store) {
            this.sessionStore = Objects.requireNonNull(store, "store");
            return this;
        }

        /**
         * @return the client, not started
         * @throws IllegalArgumentException if no endpoint was given or settings contradict each other
         */
        public MqttClient build() {
            if (endpoints.isEmpty()) {
                throw new IllegalArgumentException("endpoints must not be empty: give at least one endpoint(...)");
            }
            String id = clientId;
            if (id == null) {
                // Picked once: later builds of this builder, and toBuilder() copies, keep it.
                id = "tether-" + UUID.randomUUID().toString().substring(0, 8);
                clientId = id;
            }
            if (id.isEmpty() && version == MqttVersion.MQTT_3_1_1 && !cleanStart) {
                throw new IllegalArgumentException("clientId must not be empty with MQTT 3.1.1 and cleanStart(false)");
            }
            if (sessionStore != null && id.isEmpty()) {
                throw new IllegalArgumentException("sessionStore needs a fixed clientId, but clientId was empty");
            }
            if (authenticationMethod != null && version != MqttVersion.MQTT_5) {
                throw new IllegalArgumentException("authenticationMethod needs MQTT 5, but version was " + version);
            }
            if (Boolean.TRUE.equals(versionFallback) && version != MqttVersion.MQTT_5) {
                throw new IllegalArgumentException("versionFallback(true) needs version(MQTT_5): there is no version below "
                        + version + " to fall back to");
            }
            if (Boolean.TRUE.equals(versionFallback) && authenticationMethod != null) {
                throw new IllegalArgumentException("versionFallback(true) cannot be combined with authenticationMethod: MQTT "
                        + "3.1.1 has no enhanced authentication; drop one of them");
            }
            boolean tlsOptions = trustStore != null || trustedCertificates != null || clientKey != null;
            if (sslContext != null && tlsOptions) {
                throw new IllegalArgumentException("sslContext cannot be combined with trustStore, trustedCertificates or "
                        + "clientCertificate: put everything in the sslContext, or use only the other options");
            }
            if (trustStore != null && trustedCertificates != null) {
                throw new IllegalArgumentException("trustStore and trustedCertificates cannot both be given: choose one");
            }
            SslContext ssl = sslContext;
            if (tlsOptions) {
                ssl = TlsSettings.clientContext(trustStore, trustedCertificates, clientKey, clientChain);
            }
            MqttClientConfig config = new MqttClientConfig(id, version,
                    versionFallback == null ? DEFAULT_VERSION_FALLBACK : versionFallback, cleanStart, sessionExpiry, keepAlive,
                    pingTimeout, connackTimeout, will, offlineCapacity, overflowPolicy, maxInFlight, receiveMaximum,
                    maxPacketSize, drainTimeout, transportCloseTimeout, ssl, webSocketHeaders, webSocketQuery,
                    authenticationMethod, incompletePacketTimeout, inboundBufferSize, dropQos0WhenFull);
            ClientCore core = new ClientCore(config);
            if (sessionStore != null) {
                List<String> recorded = new ArrayList<>();
                for (Endpoint e : endpoints) {
                    java.net.URI u = e.uri();
                    recorded.add(u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort())
                            + (u.getRawPath() == null ? "" : u.getRawPath()));
                }
                core.sessionStore(sessionStore, recorded);
            }
            List<Endpoint> given = List.copyOf(endpoints);
            // Without a scheduler of the user's, the engine's timers run on the event loop of the client's channels.
            EventLoopScheduler timers = scheduler == null ? EventLoopScheduler.next() : null;
            ResilientConnection.Builder<MqttSession> b = ResilientConnection.builder(new MqttConnector(config, core, timers))
                    .endpoints(given).credentials(credentials).reconnect(reconnect).name(name);
            if (classifier != null) {
                b.classifier(classifier);
            }
            b.scheduler(timers != null ? timers : Objects.requireNonNull(scheduler));
            if (attemptTimeout != null) {
                b.attemptTimeout(attemptTimeout);
            }
            if (closeTimeout != null) {
                b.closeTimeout(closeTimeout);
            }
            return new MqttClient(b.build(), core, config, credentials, given, extras());
        }

        private static Map<String, String> prefixed(Credentials credentials, String prefix) {
            Map<String, String> out = new java.util.LinkedHashMap<>();
            credentials.attributes().forEach((k, v) -> {
                if (k.startsWith(prefix) && k.length() > prefix.length()) {
                    out.put(k.substring(prefix.length()), v);
                }
            });
            return out;
        }

    }

    /** The builder's settings that {@link MqttClientConfig} does not keep, for {@link #toBuilder()}. */
    private record Extras(@Nullable Boolean versionFallback, @Nullable SslContext sslContext,
                          java.security.@Nullable KeyStore trustStore,
                          @Nullable List<java.security.cert.X509Certificate> trustedCertificates,
                          java.security.@Nullable PrivateKey clientKey,
                          @Nullable List<java.security.cert.X509Certificate> clientChain, ReconnectPolicy reconnect,
                          @Nullable FailureClassifier classifier, @Nullable Scheduler scheduler,
                          @Nullable Duration attemptTimeout, @Nullable Duration closeTimeout, String name,
                          @Nullable MqttSessionStore sessionStore) {

        /** @return no field: the client key is a secret */
        @Override
        public String toString() {
            return "Extras";
        }
    }
}
