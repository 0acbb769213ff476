import { useEffect, useState } from 'preact/hooks';

/** Client routes under /admin/ (the server answers index.html for all of them). */
export type Route = 'deliveries' | 'subscriptions' | 'event-types';

export const ROUTES: { route: Route; path: string; label: string }[] = [
  { route: 'deliveries', path: '/admin/', label: 'Deliveries' },
  { route: 'subscriptions', path: '/admin/subscriptions', label: 'Subscriptions' },
  { route: 'event-types', path: '/admin/event-types', label: 'Event types' },
];

export function routeOf(pathname: string): Route {
  const rest = pathname.replace(/^\/admin\/?/, '').replace(/\/$/, '');
  return (ROUTES.find((r) => r.route === rest)?.route ?? 'deliveries') as Route;
}

export function navigate(path: string): void {
  if (path === location.pathname + location.search) return;
  history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.pathname));
  useEffect(() => {
    const update = () => setRoute(routeOf(location.pathname));
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return route;
}

/** Click handler for in-app links: plain clicks navigate without reload; modified clicks keep browser behaviour. */
export function onLinkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!anchor) return;
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
