// Command datalab-registrar keeps this host's healthy service instances in etcd, where
// CoreDNS serves them as <name>.service.<domain> (decision 0011).
//
// Each service in the JSON config has a health check (a TCP connect, or an HTTPS GET
// verified against the platform CA with an accepted status list). A passing instance is
// written as a CoreDNS etcd record {"host","port","ttl"} at
// <prefix>/<name labels reversed>/<host>, attached to one lease of this process; a
// failing one is deleted at once. If the process dies, the lease runs out (ttl seconds)
// and etcd drops every record; on SIGTERM the lease is revoked, so they go at once.
// The etcd user is the client certificate's CN: RBAC lets it write only its own keys.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

type check struct {
	Kind   string `json:"kind"`   // tcp | https
	Target string `json:"target"` // host:port (tcp) or URL (https)
	Status []int  `json:"status"` // accepted HTTP statuses (https; default 200)
}

type service struct {
	Name  string `json:"name"` // e.g. "vault", "active.vault"
	Port  int    `json:"port"`
	Check check  `json:"check"`
}

type config struct {
	Endpoints []string  `json:"endpoints"`
	CA        string    `json:"ca"`
	Cert      string    `json:"cert"`
	Key       string    `json:"key"`
	Prefix    string    `json:"prefix"`  // e.g. /skydns/lab/datalab/service
	Host      string    `json:"host"`    // this host's short name: the last key label
	Address   string    `json:"address"` // the address the records point at
	TTL       int64     `json:"ttl"`     // lease seconds
	Interval  float64   `json:"interval"`
	Services  []service `json:"services"`
}

func loadConfig(path string) (*config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &config{TTL: 10, Interval: 3}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(c.Endpoints) == 0 || c.Prefix == "" || c.Host == "" || c.Address == "" {
		return nil, fmt.Errorf("%s: endpoints, prefix, host and address are required", path)
	}
	for _, s := range c.Services {
		if s.Check.Kind != "tcp" && s.Check.Kind != "https" {
			return nil, fmt.Errorf("%s: service %s: check kind %q is not tcp or https", path, s.Name, s.Check.Kind)
		}
	}
	return c, nil
}

func (c *config) tls() (*tls.Config, error) {
	pem, err := os.ReadFile(c.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificate", c.CA)
	}
	t := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if c.Cert != "" {
		// Read on every handshake: the renewal timer replaces the files in place.
		t.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			pair, err := tls.LoadX509KeyPair(c.Cert, c.Key)
			return &pair, err
		}
	}
	return t, nil
}

// key is where a service's record for this host lives: CoreDNS's etcd plugin maps
// a.b.service.example.org to /skydns/org/example/service/b/a/, and answers with every
// record under it, so the host is the last label.
func (c *config) key(s service) string {
	labels := strings.Split(s.Name, ".")
	slices.Reverse(labels)
	return c.Prefix + "/" + strings.Join(labels, "/") + "/" + c.Host
}

func healthy(ctx context.Context, client *http.Client, ch check) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if ch.Kind == "tcp" {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", ch.Target)
		if err == nil {
			conn.Close()
		}
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ch.Target, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	want := ch.Status
	if len(want) == 0 {
		want = []int{http.StatusOK}
	}
	if !slices.Contains(want, resp.StatusCode) {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

type registrar struct {
	cfg   *config
	etcd  *clientv3.Client
	http  *http.Client
	lease clientv3.LeaseID
	up    map[string]bool // key -> written under the current lease
}

// keepLease renews the lease, or grants a new one when etcd no longer knows it (expired
// while etcd was unreachable, or restored from a snapshot): every record is then
// written again.
func (r *registrar) keepLease(ctx context.Context) error {
	if r.lease != 0 {
		_, err := r.etcd.KeepAliveOnce(ctx, r.lease)
		if err == nil {
			return nil
		}
		if !errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return err
		}
		log.Printf("lease %x expired: registering again", r.lease)
	}
	grant, err := r.etcd.Grant(ctx, r.cfg.TTL)
	if err != nil {
		return err
	}
	r.lease, r.up = grant.ID, map[string]bool{}
	return nil
}

func (r *registrar) tick(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(r.cfg.Interval*float64(time.Second)))
	defer cancel()
	if err := r.keepLease(ctx); err != nil {
		log.Printf("etcd: %v", err)
		return
	}
	for _, s := range r.cfg.Services {
		key := r.cfg.key(s)
		err := healthy(ctx, r.http, s.Check)
		switch {
		case err == nil && !r.up[key]:
			value, _ := json.Marshal(map[string]any{"host": r.cfg.Address, "port": s.Port, "ttl": 5})
			if _, perr := r.etcd.Put(ctx, key, string(value), clientv3.WithLease(r.lease)); perr != nil {
				log.Printf("%s: healthy, but cannot register: %v", s.Name, perr)
				continue
			}
			r.up[key] = true
			log.Printf("%s: healthy, registered %s -> %s:%d", s.Name, key, r.cfg.Address, s.Port)
		case err != nil && r.up[key]:
			if _, derr := r.etcd.Delete(ctx, key); derr != nil {
				log.Printf("%s: failing (%v), cannot deregister: %v", s.Name, err, derr)
				continue
			}
			delete(r.up, key)
			log.Printf("%s: failing (%v), deregistered", s.Name, err)
		}
	}
}

// version is set by the build (glue/datalab/builds/registrar.sh).
var version = "dev"

func main() {
	path := flag.String("config", "/etc/datalab/registrar.json", "configuration file")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("datalab-registrar", version)
		return
	}
	log.SetFlags(0) // journald stamps the lines
	cfg, err := loadConfig(*path)
	if err != nil {
		log.Fatal(err)
	}
	tlsCfg, err := cfg.tls()
	if err != nil {
		log.Fatal(err)
	}
	etcd, err := clientv3.New(clientv3.Config{
		Endpoints: cfg.Endpoints, TLS: tlsCfg, DialTimeout: 5 * time.Second,
		DialKeepAliveTime: 10 * time.Second, DialKeepAliveTimeout: 3 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer etcd.Close()
	checkTLS := &tls.Config{RootCAs: tlsCfg.RootCAs, MinVersion: tls.VersionTLS12}
	r := &registrar{
		cfg: cfg, etcd: etcd, up: map[string]bool{},
		http: &http.Client{Transport: &http.Transport{TLSClientConfig: checkTLS}},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log.Printf("registering %d services of %s under %s every %gs (lease %ds)",
		len(cfg.Services), cfg.Host, cfg.Prefix, cfg.Interval, cfg.TTL)
	ticker := time.NewTicker(time.Duration(cfg.Interval * float64(time.Second)))
	defer ticker.Stop()
	for {
		r.tick(ctx)
		select {
		case <-ctx.Done():
			if r.lease != 0 {
				bye, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				_, err := etcd.Revoke(bye, r.lease)
				cancel()
				log.Printf("stopping: lease revoked (%v)", err)
			}
			return
		case <-ticker.C:
		}
	}
}
