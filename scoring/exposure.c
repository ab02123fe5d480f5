/* Exposure from host ports and Services; see exposure.h. */
#include "scoring/exposure.h"

static bool filter_admits(const score_port_filter *filter,
			  score_protocol protocol, int32_t port)
{
	if (!filter->any_protocol && filter->protocol != protocol)
		return false;
	if (filter->first_port > 0 &&
	    (port < filter->first_port || port > filter->last_port))
		return false;
	return true;
}

static bool host_port_exposed(const score_pod *pod,
			      const score_port_filter *filter, GString *reason)
{
	for (uint32_t i = 0; i < pod->n_host_ports; i++) {
		const score_host_port *port = &pod->host_ports[i];

		if (!filter_admits(filter, port->protocol, port->port))
			continue;
		if (reason != NULL)
			g_string_append_printf(reason, "host port %d/%s",
					       (int)port->port,
					       score_protocol_name(port->protocol));
		return true;
	}
	return false;
}

static void append_service(GString *reason, const score_service *service)
{
	g_string_append_printf(reason, "Service %s/%s type %s", service->namespace,
			       service->name,
			       score_service_type_name(service->type));
}

/* The external ports of one Service that selects the pod. */
static bool service_exposed(const score_service *service,
			    const score_port_filter *filter, GString *reason)
{
	bool node_ports = service->type == SCORE_SERVICE_NODE_PORT ||
			  service->type == SCORE_SERVICE_LOAD_BALANCER;
	bool load_balancer = service->type == SCORE_SERVICE_LOAD_BALANCER;
	bool service_ports = load_balancer || service->has_external_ips;
	/* Names reason the Service's own port is reachable from outside. */
	const char *via = load_balancer ? "" : " with externalIPs";

	for (uint32_t i = 0; i < service->n_ports; i++) {
		const score_service_port *port = &service->ports[i];

		if (service_ports && filter_admits(filter, port->protocol, port->port)) {
			if (reason != NULL) {
				append_service(reason, service);
				g_string_append_printf(reason, "%s port %d/%s", via,
						       (int)port->port,
						       score_protocol_name(port->protocol));
			}
			return true;
		}
		if (node_ports && port->node_port > 0 &&
		    filter_admits(filter, port->protocol, port->node_port)) {
			if (reason != NULL) {
				append_service(reason, service);
				g_string_append_printf(reason, " node port %d/%s",
						       (int)port->node_port,
						       score_protocol_name(port->protocol));
			}
			return true;
		}
	}
	return false;
}

bool score_pod_exposed(const score_model *model, const score_pod *pod,
		       const score_port_filter *filter, GString *reason)
{
	const GPtrArray *services;

	if (host_port_exposed(pod, filter, reason))
		return true;
	if (model == NULL)
		return false;

	services = score_model_namespace_services(model, pod->namespace);
	for (guint i = 0; services != NULL && i < services->len; i++) {
		const score_service *service = g_ptr_array_index(services, i);

		if (score_service_selects(service, pod) &&
		    service_exposed(service, filter, reason))
			return true;
	}
	return false;
}
