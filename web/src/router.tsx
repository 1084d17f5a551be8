// Every dashboard URL, typed: paths, params and search params are checked by TypeScript wherever a
// Link or navigate names them. Pages are split into their own chunks (lazyRouteComponent) so the first
// load carries only the shell; a route's loader starts its queries while its chunk downloads.
import {
  createRootRouteWithContext,
  createRoute,
  createRouter,
  lazyRouteComponent,
  notFound,
  redirect,
} from "@tanstack/react-router";
import type { QueryClient } from "@tanstack/react-query";
import type { Session } from "@supabase/supabase-js";
import { billingQueries } from "./billing/queries.ts";
import { parseBillingSearch } from "./billing/search.ts";
import { businessQueries } from "./businesses/queries.ts";
import { pickMembership } from "./businesses/selection.ts";
import type { Db } from "./lib/db.ts";
import { leadQueries } from "./leads/queries.ts";
import { parseLeadsSearch } from "./leads/search.ts";
import { parseSignInSearch } from "./auth/search.ts";
import { parseWelcomeSearch } from "./onboarding/search.ts";
import { AppShell } from "./shell/AppShell.tsx";
import { NotFoundCard, NotFoundPage, RouteError } from "./shell/RouteStates.tsx";
import { Loading } from "./ui/States.tsx";

export interface RouterContext {
  db: Db;
  queryClient: QueryClient;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const rootRoute = createRootRouteWithContext<RouterContext>()({
  notFoundComponent: NotFoundPage,
});

const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-in",
  validateSearch: parseSignInSearch,
  beforeLoad: async ({ context, search }) => {
    const { data } = await context.db.auth.getSession();
    if (data.session) throw redirect({ href: search.redirect ?? "/" });
  },
  component: lazyRouteComponent(() => import("./auth/SignIn.tsx"), "SignIn"),
});

/** Signed-out pages: a signed-in visitor goes to the dashboard instead. */
async function signedOutOnly({ context }: { context: RouterContext }) {
  const { data } = await context.db.auth.getSession();
  if (data.session) throw redirect({ to: "/" });
}

const signUpRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-up",
  beforeLoad: signedOutOnly,
  component: lazyRouteComponent(() => import("./auth/SignUp.tsx"), "SignUp"),
});

const forgotPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/forgot-password",
  beforeLoad: signedOutOnly,
  component: lazyRouteComponent(() => import("./auth/ForgotPassword.tsx"), "ForgotPassword"),
});

/** Where mail links land (confirmation, magic link): signed in or not, the page finishes the link. */
const confirmRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/auth/confirm",
  component: lazyRouteComponent(() => import("./auth/Confirm.tsx"), "Confirm"),
});

const resetPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/auth/reset",
  component: lazyRouteComponent(() => import("./auth/ResetPassword.tsx"), "ResetPassword"),
});

/** The setup wizard: signed in, outside the shell (which needs a business to show). */
const welcomeRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/welcome",
  validateSearch: parseWelcomeSearch,
  beforeLoad: async ({ context, location }): Promise<{ session: Session }> => {
    const { data } = await context.db.auth.getSession();
    if (!data.session) throw redirect({ to: "/sign-in", search: { redirect: location.href } });
    return { session: data.session };
  },
  component: lazyRouteComponent(() => import("./onboarding/Wizard.tsx"), "Wizard"),
});

/** Everything behind sign-in: the shell (navigation, business, realtime) around the pages. */
const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "app",
  beforeLoad: async ({ context, location }): Promise<{ session: Session }> => {
    const { data } = await context.db.auth.getSession();
    if (!data.session) {
      throw redirect({ to: "/sign-in", search: location.href === "/" ? {} : { redirect: location.href } });
    }
    return { session: data.session };
  },
  component: AppShell,
});

/** Starts loading the signed-in user's business (and what `then` needs of it) without blocking. */
function prefetchForBusiness(context: RouterContext & { session: Session }, then: (businessId: string) => Promise<unknown>[]) {
  void context.queryClient
    .ensureQueryData(businessQueries.memberships(context.db, context.session.user.id))
    .then((memberships) => {
      const membership = pickMembership(memberships);
      return membership ? Promise.all(then(membership.business.id)) : null;
    })
    .catch(() => undefined); // the page shows the error from its own query
}

const leadsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/",
  validateSearch: parseLeadsSearch,
  loaderDeps: ({ search }) => ({ page: search.page ?? 1 }),
  loader: ({ context, deps }) => {
    prefetchForBusiness(context, (businessId) => [
      context.queryClient.prefetchQuery(leadQueries.list(context.db, businessId, deps.page)),
    ]);
  },
  component: lazyRouteComponent(() => import("./leads/LeadsList.tsx"), "LeadsList"),
});

/** The old address of the list. */
const leadsAliasRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/leads",
  beforeLoad: () => {
    throw redirect({ to: "/" });
  },
});

const leadRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/leads/$leadId",
  params: {
    parse: ({ leadId }) => ({ leadId: leadId.toLowerCase() }),
    stringify: ({ leadId }) => ({ leadId }),
  },
  loader: ({ context, params }) => {
    if (!UUID.test(params.leadId)) throw notFound();
    void context.queryClient.prefetchQuery(leadQueries.detail(context.db, params.leadId));
    void context.queryClient.prefetchQuery(leadQueries.conversation(context.db, params.leadId));
  },
  component: lazyRouteComponent(() => import("./leads/LeadDetail.tsx"), "LeadDetail"),
  notFoundComponent: () => <NotFoundCard what="lead" />,
});

const settingsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/settings",
  component: lazyRouteComponent(() => import("./settings/SettingsPage.tsx"), "SettingsPage"),
});

/** Plan, usage and payment (owners act, staff read); Stripe's Checkout and portal come back here. */
const billingRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/billing",
  validateSearch: parseBillingSearch,
  loader: ({ context }) => {
    void context.queryClient.prefetchQuery(billingQueries.plans(context.db));
    prefetchForBusiness(context, (businessId) => [context.queryClient.prefetchQuery(billingQueries.subscription(context.db, businessId))]);
  },
  component: lazyRouteComponent(() => import("./billing/BillingPage.tsx"), "BillingPage"),
});

/** The business's website forms (widgets) and their install snippets. */
const widgetsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/widgets",
  loader: ({ context }) => {
    // The queries module comes with the page's chunk, not the first load.
    prefetchForBusiness(context, (businessId) => [
      import("./widgets/queries.ts").then(({ widgetQueries }) => context.queryClient.prefetchQuery(widgetQueries.list(context.db, businessId))),
    ]);
  },
  component: lazyRouteComponent(() => import("./widgets/WidgetsPage.tsx"), "WidgetsPage"),
});

export const routeTree = rootRoute.addChildren([
  signInRoute,
  signUpRoute,
  forgotPasswordRoute,
  confirmRoute,
  resetPasswordRoute,
  welcomeRoute,
  appRoute.addChildren([leadsRoute, leadsAliasRoute, leadRoute, settingsRoute, billingRoute, widgetsRoute]),
]);

export function createAppRouter(context: RouterContext) {
  return createRouter({
    routeTree,
    context,
    // Hovering or focusing a link fetches that page's code and data before the click.
    defaultPreload: "intent",
    // react-query owns freshness (realtime invalidation); the router must not cache loader results.
    defaultPreloadStaleTime: 0,
    defaultPendingComponent: () => <Loading what="the page" />,
    defaultErrorComponent: RouteError,
    scrollRestoration: true,
  });
}

declare module "@tanstack/react-router" {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}
