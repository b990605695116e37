package dev.tether.mqtt.internal;

import dev.tether.core.ConnectionFailedException;
import dev.tether.core.Endpoint;
import dev.tether.core.Initiator;
import dev.tether.core.Verdict;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * Verified TLS for {@code ssl} and {@code wss} endpoints: the server certificate is checked against
 * the configured trust (the JDK's trust store by default) and its host name against the endpoint's
 * host, always. A refusal says which host, which certificate and what is wrong with it.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class TlsSettings {

    /** How many TLS refusals in a row are tried (with backoff) before the client gives up. */
    public static final int MAX_TLS_FAILURES = 3;

    /** Every TLS failure in a row shares this verdict, so failover between endpoints cannot reset the cap. */
    static final Verdict CERTIFICATE_VERDICT = Verdict.retry().withMaxConsecutive(MAX_TLS_FAILURES)
            .withExplanation("the server certificate was refused (TLS verification)");

    private TlsSettings() {
    }

    /**
     * @param trustStore   the trusted certificates as a key store, or null
     * @param trusted      trusted certificates, or null
     * @param key          the client's private key for mutual TLS, or null
     * @param chain        the client's certificate chain, or null
     * @return a client TLS context that verifies the server (certificate and host name)
     * @throws IllegalArgumentException if the material cannot be used
     */
    public static SslContext clientContext(@Nullable KeyStore trustStore, @Nullable List<X509Certificate> trusted,
                                           @Nullable PrivateKey key, @Nullable List<X509Certificate> chain) {
        try {
            KeyStore store = trustStore;
            if (trusted != null) {
                store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                for (int i = 0; i < trusted.size(); i++) {
                    store.setCertificateEntry("trusted-" + i, trusted.get(i));
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            X509ExtendedTrustManager delegate = null;
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    delegate = x;
                }
            }
            if (delegate == null) {
                throw new IllegalStateException("the JDK offers no X509ExtendedTrustManager");
            }
            SslContextBuilder b = SslContextBuilder.forClient().trustManager(new ExplainingTrustManager(delegate))
                    .endpointIdentificationAlgorithm("HTTPS");
            if (key != null && chain != null) {
                b.keyManager(key, chain.toArray(new X509Certificate[0]));
            }
            return b.build();
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalArgumentException("cannot build the TLS settings: " + e.getMessage(), e);
        }
    }

    /**
     * Turns host name verification on for one connection, whatever TLS context it was made from.
     *
     * @param handler the connection's TLS handler, before the handshake
     */
    static void verifyHostName(SslHandler handler) {
        SSLEngine engine = handler.engine();
        SSLParameters params = engine.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(params);
    }

    /**
     * @param endpoint the endpoint
     * @param error    a connect failure
     * @return a clear failure if the TLS handshake failed, else null
     */
    static @Nullable ConnectionFailedException tlsFailure(Endpoint endpoint, Throwable error) {
        Throwable certificate = null;
        Throwable ssl = null;
        for (Throwable t = error; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof CertificateException && certificate == null) {
                certificate = t;
            }
            if (t instanceof SSLException && ssl == null) {
                ssl = t;
            }
        }
        if (certificate != null) {
            return new ConnectionFailedException("TLS to " + endpoint + " refused: " + certificate.getMessage(),
                    Initiator.LOCAL_DETECTION, -1, CERTIFICATE_VERDICT, error);
        }
        if (ssl != null) {
            String message = String.valueOf(ssl.getMessage());
            // A certificate alert (bad_certificate, certificate_required, unknown_ca...) means the broker refused
            // this client's certificate, or the lack of one: a configuration problem, capped like a refused
            // server certificate. Other handshake failures (timeouts, resets) are retried like any I/O error.
            boolean certificateAlert = message.toLowerCase(java.util.Locale.ROOT).contains("certificate")
                    || message.toLowerCase(java.util.Locale.ROOT).contains("unknown_ca");
            return new ConnectionFailedException("TLS handshake with " + endpoint + " failed: " + message
                    + (certificateAlert ? " (if the broker asks for a client certificate, give one with clientCertificate(...))" : ""),
                    Initiator.LOCAL_DETECTION, -1, certificateAlert ? CERTIFICATE_VERDICT : null, error);
        }
        return null;
    }

    /** Delegates every check to the JDK and, when it refuses the server, says clearly why. */
    private static final class ExplainingTrustManager extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;

        ExplainingTrustManager(X509ExtendedTrustManager delegate) {
            this.delegate = delegate;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            try {
                delegate.checkServerTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                throw explain(chain, engine == null ? null : engine.getPeerHost(), engine == null ? -1 : engine.getPeerPort(), e);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            try {
                delegate.checkServerTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                throw explain(chain, null, -1, e);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                delegate.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                throw explain(chain, null, -1, e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            delegate.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            delegate.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }

    static CertificateException explain(X509Certificate[] chain, @Nullable String host, int port, CertificateException e) {
        String where = host == null ? "the server" : port > 0 ? host + ":" + port : host;
        X509Certificate leaf = chain.length > 0 ? chain[0] : null;
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        String problem;
        if (e instanceof CertificateExpiredException || reason.contains("NotAfter")) {
            problem = "the certificate has expired";
        } else if (e instanceof CertificateNotYetValidException || reason.contains("NotBefore")) {
            problem = "the certificate is not valid yet";
        } else if (reason.contains("subject alternative") || reason.contains("No name matching")) {
            problem = "the certificate was issued for " + (leaf == null ? "another host" : names(leaf))
                    + ", not for " + (host == null ? "this host" : host) + " (host name verification)";
        } else if (reason.contains("PKIX") || reason.contains("certification path")) {
            problem = "the certificate is not signed by a trusted authority (self-signed or unknown issuer); trust it "
                    + "with trustedCertificates(...) or trustStore(...)";
        } else {
            problem = "the certificate was refused";
        }
        String details = leaf == null ? "" : "; certificate subject '" + leaf.getSubjectX500Principal().getName()
                + "', issuer '" + leaf.getIssuerX500Principal().getName() + "', valid " + leaf.getNotBefore().toInstant()
                + " to " + leaf.getNotAfter().toInstant();
        return new CertificateException("the server certificate of " + where + " was refused: " + problem + details
                + " (" + reason + ")", e);
    }

    private static String names(X509Certificate leaf) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> alt = leaf.getSubjectAlternativeNames();
            if (alt != null) {
                for (List<?> entry : alt) {
                    if (entry.size() >= 2 && entry.get(1) instanceof String s) {
                        names.add(s);
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException ignored) {
            // Fall back to the subject below.
        }
        return names.isEmpty() ? "'" + leaf.getSubjectX500Principal().getName() + "'" : names.toString();
    }
}
