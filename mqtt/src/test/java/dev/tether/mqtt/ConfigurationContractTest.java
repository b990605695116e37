package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.BuilderCopies;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import nl.jqno.equalsverifier.EqualsVerifier;
import nl.jqno.equalsverifier.Warning;
import org.junit.jupiter.api.Test;

/** The MQTT module's value types keep the equals/hashCode contract, and every toBuilder() carries every setting. */
class ConfigurationContractTest {

    private static final MqttMessage MESSAGE = MqttMessage.of("t/will", "gone", MqttQos.AT_LEAST_ONCE);

    private static final Map<Class<?>, Object> VALUES = Map.of(
            MqttMessage.class, MqttMessage.of("t/other", "x", MqttQos.EXACTLY_ONCE),
            MqttWill.class, MqttWill.of(MESSAGE),
            ReconnectPolicy.class, ReconnectPolicy.builder().initialDelay(Duration.ofMillis(3)).build());

    @Test
    void valueTypesKeepTheEqualsContract() {
        EqualsVerifier.forClass(MqttSubscription.class).verify();
        EqualsVerifier.forClass(MqttWill.class).verify();
        EqualsVerifier.forClass(MqttMessage.class).suppress(Warning.NULL_FIELDS).verify();
    }

    @Test
    void toBuilderCarriesEverySetting() {
        assertThat(BuilderCopies.assertCopiesEveryField(MqttSubscription.builder("a/#"), b -> b.build().toBuilder(), VALUES))
                .isNotEmpty();
        assertThat(BuilderCopies.assertCopiesEveryField(MqttMessage.builder("a/b"), b -> b.build().toBuilder(), VALUES))
                .isNotEmpty();
        assertThat(BuilderCopies.assertCopiesEveryField(MqttWill.builder(MESSAGE), b -> b.build().toBuilder(), VALUES))
                .contains("delay", "messageExpiry");
        assertThat(BuilderCopies.assertCopiesEveryField(MqttFileSessionStore.builder(java.nio.file.Path.of("target", "never-opened.db")),
                b -> b.build().toBuilder(), VALUES))
                .contains("groupCommit", "forceToDisk", "fileName", "freeSpaceReserve", "usableSpace");
        // version stays MQTT 5 and authenticationMethod unset: the builder refuses either with versionFallback(true)
        assertThat(BuilderCopies.assertCopiesEveryField(MqttClient.builder().endpoint("tcp://127.0.0.1:1883"),
                b -> b.build().toBuilder(), VALUES, "version", "authenticationMethod"))
                .contains("clientId", "versionFallback", "cleanStart", "sessionExpiry", "keepAlive", "pingTimeout",
                        "connackTimeout", "will", "offlineCapacity", "overflowPolicy", "maxInFlight", "receiveMaximum",
                        "inboundBufferSize", "dropQos0WhenFull", "maxPacketSize", "drainTimeout", "incompletePacketTimeout",
                        "transportCloseTimeout", "webSocketHeaders", "webSocketQuery", "credentials", "reconnect",
                        "classifier", "scheduler", "attemptTimeout", "closeTimeout", "name", "sessionStore", "clientKey");
    }

    /**
     * What the field-by-field check above cannot set (TLS objects it cannot make, several endpoints, settings left at
     * their defaults, which the client does not keep): the copy of a built client holds every field as given.
     */
    @Test
    void toBuilderKeepsTlsOptionsEndpointsAndDefaultsAsGiven() throws Exception {
        SelfSignedCertificate cert = new SelfSignedCertificate("localhost");
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setCertificateEntry("broker", cert.cert());
            List<MqttClient.Builder> builders = List.of(
                    MqttClient.builder().endpoint("tcp://127.0.0.1:1883"),
                    MqttClient.builder().endpoint("tcp://127.0.0.1:1883").versionFallback(true).name("mqtt"),
                    MqttClient.builder().endpoint("ssl://a.example:8883").endpoint("ws://b.example/mqtt")
                            .trustedCertificates(cert.cert()).clientCertificate(cert.key(), cert.cert()),
                    MqttClient.builder().endpoint("ssl://a.example:8883").trustStore(store),
                    MqttClient.builder().endpoint("ssl://a.example:8883").sslContext(SslContextBuilder.forClient().build()));
            for (MqttClient.Builder b : builders) {
                MqttClient.Builder copy = b.build().toBuilder();
                for (Field f : MqttClient.Builder.class.getDeclaredFields()) {
                    if (Modifier.isStatic(f.getModifiers())) {
                        continue;
                    }
                    f.setAccessible(true);
                    assertThat(f.get(copy)).as(f.getName()).isEqualTo(f.get(b));
                }
            }
        } finally {
            cert.delete();
        }
    }
}
